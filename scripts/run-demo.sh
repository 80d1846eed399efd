#!/usr/bin/env bash
# The Confab demo in one command (fresh Debian 12 with a desktop session): installs what is
# missing, builds the UI and the desktop app, starts the backend's demo mode (a fresh database
# with demo users and a Sockudo child process), and opens the app pointed at it. The demo
# users' emails and passwords are printed; Ctrl-C (or Quit in the tray menu) stops everything.
#
# Environment: CONFAB_DEMO_PORT (default 8080) for the backend's port.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
export PATH="$HOME/.cargo/bin:$PATH"
port="${CONFAB_DEMO_PORT:-8080}"

log() { printf '\n[demo] %s\n' "$*" >&2; }

scripts/bootstrap.sh app

log "building the UI (trunk) and the app"
(cd src-ui && trunk build --quiet)
cargo build --quiet -p confab-server -p confab-desktop --features confab-desktop/custom-protocol

work="$(mktemp -d -t confab-demo.XXXXXX)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

log "starting the backend's demo mode on 127.0.0.1:$port"
target/debug/confab-server demo --bind "127.0.0.1:$port" --db "$work/server.db" --teammate \
  >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 150); do
  grep -q "Press Ctrl-C" "$work/server.log" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.2
done
grep -q "Press Ctrl-C" "$work/server.log" || { cat "$work/server.log" >&2; log "the backend did not start"; exit 1; }
grep -v "Press Ctrl-C" "$work/server.log" | grep -v '^\s*$' | grep -v ' INFO \| DEBUG ' || true

log "opening Confab (server http://127.0.0.1:$port pre-filled; sign in with a user above)"
export CONFAB_SERVER_URL="http://127.0.0.1:$port"
# A fresh cache per demo run: the demo database is new each time too.
export CONFAB_DATA_DIR="$work/app-data"
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  log "no display found: running the window on a virtual one (xvfb-run)"
  xvfb-run -a "$root/target/debug/confab-desktop"
else
  "$root/target/debug/confab-desktop"
fi
