#!/usr/bin/env bash
# Runs every check CI runs, from any directory: bootstrap (installs what is missing), the UI
# build (trunk: the desktop app embeds it), rustfmt, no module circles (no two modules of a
# crate import each other), clippy with warnings as errors, the shared model on wasm32, every
# Rust test of the workspace (real Sockudo, real backend, real SQLite files, a real Secret
# Service on a private D-Bus, and the app's real window under Xvfb driven through
# tauri-driver), the backend's suite again on a real PostgreSQL, the pusher-js
# interoperability test, and schemathesis against the backend's
# OpenAPI document.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
# A CI run starts cold, where incremental compilation only adds a second copy of every
# workspace crate's work to the disk (CI once ran out of it); a run here after a small change
# recompiles the changed crates whole, a few seconds more.
export CARGO_INCREMENTAL=0

step() { printf '\n[test] %s\n' "$*" >&2; }

step "scripts/bootstrap.sh test"
scripts/bootstrap.sh test

step "trunk build (src-ui → src-ui/dist, embedded by the desktop app)"
(cd src-ui && trunk build --quiet)

step "cargo fmt --all -- --check"
cargo fmt --all -- --check

step "scripts/module-cycles.py (no two modules of a crate import each other)"
python3 scripts/module-cycles.py

step "unsafe code only where audited (every crate forbids it; src-tauri denies it, with one allow)"
# src-tauri's lints deny `unsafe_code` instead of forbidding it for one function, glibc's
# mallopt at start (src-tauri/src/memory.rs); denied code compiles only under an allow, so
# listing the allows lists every place `unsafe` can be.
allows="$(grep -rn --include='*.rs' -E '(allow|expect)\(([^)]*[ ,])?unsafe_code' crates src-tauri src-ui tests || true)"
if [ "$(printf '%s\n' "$allows" | grep -c .)" != 1 ] || ! printf '%s\n' "$allows" | grep -q '^src-tauri/src/memory.rs:' ||
  grep -rqE --include=Cargo.toml 'unsafe_code *= *"(allow|warn)"' Cargo.toml crates src-tauri src-ui tests; then
  printf 'unsafe allowed outside src-tauri/src/memory.rs, or not once:\n%s\n' "$allows" >&2
  exit 1
fi
# Cargo cannot relax one workspace lint in one member, so src-tauri copies the whole table:
# the copy must stay equal to the workspace's but for `unsafe_code`.
python3 - <<'PY'
import sys, tomllib
with open("Cargo.toml", "rb") as f:
    workspace = tomllib.load(f)["workspace"]["lints"]
with open("src-tauri/Cargo.toml", "rb") as f:
    shell = tomllib.load(f)["lints"]
expected = {tool: dict(table) for tool, table in workspace.items()}
expected["rust"]["unsafe_code"] = "deny"
if shell != expected:
    sys.exit(f"src-tauri's [lints] differ from [workspace.lints] beyond unsafe_code:\n{shell}\n{expected}")
PY

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo check -p confab-model --target wasm32-unknown-unknown"
cargo check -p confab-model --target wasm32-unknown-unknown

step "cargo build --workspace --all-targets (the end-to-end tests drive the confab-desktop binary)"
# `cargo test` builds a package's binary only for that package's own integration tests, so the
# end-to-end crate (tests/) would find no confab-desktop next to it on a clean target directory.
# Built together with every test target, so dependencies get the same feature set `cargo test`
# uses: `cargo build -p confab-desktop` alone resolved other features and compiled ~150 crates
# (GTK, WebKit, Tauri) a second time on a cold run.
cargo build --workspace --all-targets

step "cargo test --workspace"
cargo test --workspace

step "cargo test -p confab-server on PostgreSQL (the same suite, every backend on a throwaway PostgreSQL 15)"
CONFAB_TEST_ENGINE=postgres cargo test -p confab-server

step "pusher-js against the backend (node --test)"
crates/confab-server/tests/node/run.sh

if [ -x scripts/schemathesis.sh ]; then
  step "schemathesis against /api/openapi.json"
  scripts/schemathesis.sh
fi

step "ran: bootstrap, UI build, rustfmt, module circles, the unsafe audit, clippy, wasm32 check, cargo test --workspace (end-to-end included), the backend on PostgreSQL, pusher-js, schemathesis: all passed"
