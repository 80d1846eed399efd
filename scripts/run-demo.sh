#!/usr/bin/env bash
# Runs the demo on a fresh Debian 12 machine: installs what is missing, then starts a local
# Sockudo and a client that prints live events (Ctrl-C stops both).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/bootstrap.sh run
exec cargo run --quiet -p pusher-channels --example demo
