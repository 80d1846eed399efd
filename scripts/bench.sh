#!/usr/bin/env bash
# Runs one of Confab's benchmarks after installing what it needs (scripts/bootstrap.sh bench).
# Usage: scripts/bench.sh pusher [--events N] [--warmup N] [--concurrency N] [--timeout-secs N]
#        scripts/bench.sh app [--runs N] [--idle-secs S] [--wrap "PROFILER ARGS"] [--smaps-dir DIR]
#   pusher: this repo's Pusher client against pusher-js on one local Sockudo channel
#           (crates/pusher-channels/examples/bench.rs says what it measures and how).
#   app:    the desktop app (`dist` profile, as packaged) under Xvfb: start to the cached sidebar
#           painted, and the idle memory and CPU of the app with its WebKit processes
#           against an empty WebKitGTK window, the floor under it
#           (tests/examples/bench_app.rs says what it measures and how).
#        scripts/bench.sh history [--messages N] [--runs N] [--pages N]
#   history: a conversation of 100,000 cached messages in the window: open and paint, scroll
#           back 10,000 messages (DOM rows, web process growth), a search hit halfway back
#           (tests/examples/bench_history.rs).
#        scripts/bench.sh team [--runs N]
#   team:   the same app with 2,000 conversations and 500 teammates: the sidebar painted from
#           the start of the page, one keystroke of filtering in the switcher and the picker
#           (tests/examples/bench_team.rs).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

which="${1:-}"
[ $# -gt 0 ] && shift
case "$which" in
  pusher)
    scripts/bootstrap.sh bench
    # Both examples: the orchestrator starts the Rust subscriber from its own directory.
    cargo build --release --quiet -p pusher-channels --examples
    exec "${CARGO_TARGET_DIR:-$root/target}/release/examples/bench" "$@"
    ;;
  app)
    scripts/bootstrap.sh test
    (cd src-ui && trunk build --quiet)
    # The profile the package is built with (Cargo.toml: size-optimised, fat LTO); the bench
    # finds the app next to itself.
    cargo build --profile dist --quiet -p confab-desktop -p confab-e2e --bins --examples
    exec "${CARGO_TARGET_DIR:-$root/target}/dist/examples/bench_app" "$@"
    ;;
  history|team)
    scripts/bootstrap.sh test
    (cd src-ui && trunk build --quiet)
    cargo build --profile dist --quiet -p confab-desktop -p confab-e2e --bins --examples
    exec "${CARGO_TARGET_DIR:-$root/target}/dist/examples/bench_$which" "$@"
    ;;
  *)
    echo "usage: $0 pusher [--events N] [--warmup N] [--concurrency N] [--timeout-secs N]" >&2
    echo "       $0 app [--runs N] [--idle-secs S]" >&2
    echo "       $0 history [--messages N] [--runs N] [--pages N]" >&2
    echo "       $0 team [--runs N]" >&2
    exit 2
    ;;
esac
