#!/usr/bin/env bash
# Installs what Confab's run and test commands need on Debian 12, skipping what is already there.
# Usage: scripts/bootstrap.sh [test|run|bench]   (idempotent: a second run only checks, in seconds)
#
# It assumes a Rust toolchain (cargo, rustfmt, clippy) is already installed, as on every machine of
# this project; it only reaches Debian's packages, crates.io and the npm registry.
set -euo pipefail
what="${1:-test}"
case "$what" in test | run | bench) ;; *) echo "usage: $0 [test|run|bench]" >&2; exit 2 ;; esac
SOCKUDO_VERSION=5.2.0
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { printf '[bootstrap] %s\n' "$*" >&2; }
sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

export PATH="$HOME/.cargo/bin:$PATH"
for tool in cargo rustfmt cargo-clippy; do
  command -v "$tool" >/dev/null || { log "missing $tool: install the Rust toolchain (rustup) first"; exit 1; }
done

# Build dependencies of Sockudo and of Confab's crates.
need_apt=()
for pkg in pkg-config libssl-dev protobuf-compiler libprotobuf-dev build-essential; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$pkg")
done
if [ "$what" = bench ]; then
  command -v node >/dev/null || need_apt+=(nodejs npm)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_ apt-get install -y -qq "${need_apt[@]}" </dev/null >/dev/null
fi

# Sockudo, the Pusher-protocol server the demo and the tests run (confab-testkit finds it in
# ~/.cargo/bin, or wherever SOCKUDO_BIN points).
if ! "$HOME/.cargo/bin/sockudo" --version 2>/dev/null | grep -qF "$SOCKUDO_VERSION"; then
  log "installing sockudo $SOCKUDO_VERSION from crates.io (about 10 minutes the first time)"
  cargo install sockudo --version "$SOCKUDO_VERSION" --locked --no-default-features --features local
fi

if [ "$what" = bench ]; then
  if [ ! -d "$root/tests/node/node_modules/pusher-js" ]; then
    log "npm install (pusher-js)"
    (cd "$root/tests/node" && npm install --no-audit --no-fund --silent)
  fi
fi
log "ready"
