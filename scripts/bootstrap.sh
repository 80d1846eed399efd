#!/usr/bin/env bash
# Installs what Confab's run and test commands need on Debian 12, skipping what is already there.
# Usage: scripts/bootstrap.sh [test|run|bench]   (idempotent: a second run only checks)
set -euo pipefail
what="${1:-test}"
SOCKUDO_VERSION=5.2.0

log() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*" >&2; }
sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

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
  DEBIAN_FRONTEND=noninteractive sudo_ apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v cargo-nextest >/dev/null 2>&1; then
  log "installing cargo-nextest"
  cargo install --locked cargo-nextest >/dev/null 2>&1 || log "cargo-nextest not installed; falling back to cargo test"
fi
if ! sockudo --version 2>/dev/null | grep -q "$SOCKUDO_VERSION"; then
  log "installing sockudo $SOCKUDO_VERSION from crates.io (about 10 minutes the first time)"
  cargo install sockudo --version "$SOCKUDO_VERSION" --locked --no-default-features --features local
fi

if [ "$what" = bench ]; then
  if [ ! -d "$(dirname "$0")/../tests/node/node_modules/pusher-js" ]; then
    log "npm install (pusher-js)"
    (cd "$(dirname "$0")/../tests/node" && npm install --no-audit --no-fund --silent)
  fi
fi
log "ready"
