#!/usr/bin/env bash
# Runs every check CI runs, from any directory: bootstrap (installs Sockudo if missing), rustfmt,
# clippy with warnings as errors, then every test of the workspace with plain `cargo test`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n[test] %s\n' "$*" >&2; }

step "scripts/bootstrap.sh test"
scripts/bootstrap.sh test

step "cargo fmt --all -- --check"
cargo fmt --all -- --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test --workspace"
cargo test --workspace

step "ran: bootstrap, rustfmt check, clippy, cargo test --workspace: all passed"
