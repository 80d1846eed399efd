#!/usr/bin/env bash
# Runs the pusher-js test: installs pusher-js (npm), builds confab-server, runs node --test.
# Needs node >= 18, npm, and sockudo (scripts/bootstrap.sh installs it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"
cd "$here"
npm install --no-audit --no-fund --silent
(cd "$root" && cargo build -p confab-server --quiet)
target="${CARGO_TARGET_DIR:-$root/target}"
export CONFAB_SERVER_BIN="${CONFAB_SERVER_BIN:-$target/debug/confab-server}"
exec node --test --test-timeout=60000 "$here"/*.test.mjs
