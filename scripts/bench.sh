#!/usr/bin/env bash
# Runs one of Confab's benchmarks after installing what it needs (scripts/bootstrap.sh bench).
# Usage: scripts/bench.sh pusher [--events N] [--warmup N] [--concurrency N] [--timeout-secs N]
#        scripts/bench.sh app [--runs N] [--idle-secs S] [--wrap "PROFILER ARGS"] [--smaps-dir DIR]
#   pusher: this repo's Pusher client against pusher-js on one local Sockudo channel
#           (crates/pusher-channels/examples/bench.rs says what it measures and how).
#   app:    the desktop app (`dist` profile, as packaged) under Xvfb: start to the cached sidebar
#           painted, and the idle memory and CPU of the app with its WebKit processes
#           against an empty WebKitGTK window, the floor under it, and against a Tauri + Yew
#           app that does nothing (tests/peer), what the framework alone costs
#           (tests/examples/bench_app.rs says what it measures and how).
#        scripts/bench.sh history [--messages N] [--runs N] [--pages N]
#   history: a conversation of 100,000 cached messages in the window: open and paint, scroll
#           back 10,000 messages (DOM rows, web process growth), a search hit halfway back
#           (tests/examples/bench_history.rs).
#        scripts/bench.sh team [--runs N]
#   team:   the same app with 2,000 conversations and 500 teammates: the sidebar painted from
#           the start of the page, one keystroke of filtering in the switcher and the picker
#           (tests/examples/bench_team.rs).
#        scripts/bench.sh order
#   order:  retakes src-tauri/code-order.txt, the functions a start and an idle window run, which
#           the linker lays out first (src-tauri/build.rs): the app started from the cache three
#           times under callgrind, then three rounds of native starts whose page faults name what
#           callgrind missed, then four rounds of a long history and a big team for the functions
#           of use, listed after, each round relinked; last, the list's coverage (~30 min).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

which="${1:-}"
[ $# -gt 0 ] && shift
dist="${CARGO_TARGET_DIR:-$root/target}/dist"

# The app as it is packaged (Cargo.toml's `dist` profile: size-optimised, fat LTO), built on its
# own: built together with the test crate, its dependencies would get the test crate's features
# too, and so other code and other symbol names than the package has. Then the benches, which
# find the app next to themselves. `build_app` alone relinks the app after its code order changed
# (src-tauri/build.rs reads the list).
build_app() { cargo build --profile dist --quiet -p confab-desktop; }
build_dist() {
  build_app
  cargo build --profile dist --quiet -p confab-e2e --examples
}
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
    build_dist
    # The peer (tests/peer: Tauri and Yew alone), next to the app, on Confab's lock file so that
    # it runs the same versions; it is its own workspace, built into this target directory.
    cp Cargo.lock tests/peer/Cargo.lock
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
    (cd tests/peer/ui && trunk build --quiet)
    cargo build --profile dist --quiet --manifest-path tests/peer/Cargo.toml -p tauri-hello \
      --features tauri/custom-protocol
    python3 scripts/code-order.py check "$dist/confab-desktop" src-tauri/code-order.txt
    exec "$dist/examples/bench_app" "$@"
    ;;
  history|team)
    scripts/bootstrap.sh test
    (cd src-ui && trunk build --quiet)
    build_dist
    exec "$dist/examples/bench_$which" "$@"
    ;;
  order)
    scripts/bootstrap.sh test
    scripts/bootstrap.sh bench
    (cd src-ui && trunk build --quiet)
    build_dist
    # Debian's kernels let only root record the whole system unless this is lowered.
    if ! perf record -a -q -e minor-faults -o /dev/null true 2>/dev/null; then
      echo "perf cannot record the system's page faults here: run as root, or" \
        "sudo sysctl kernel.perf_event_paranoid=-1" >&2
      exit 1
    fi
    profiles="$(mktemp -d)"
    trap 'rm -rf "$profiles"' EXIT
    "$dist/examples/bench_app" --runs 3 --idle-secs 5 --wrap "valgrind --tool=callgrind \
      --callgrind-out-file=$profiles/callgrind.%p --demangle=no --compress-strings=no \
      --compress-pos=no"
    python3 scripts/code-order.py collect src-tauri/code-order.txt "$profiles"/callgrind.*
    # valgrind's CPU lacks some of this machine's features (SHA, AVX-512), so a native start
    # runs functions callgrind never saw. Relinked with the list, each native round's page
    # faults in the app's code name the first function run in each block still unlisted.
    for round in 1 2 3; do
      build_app
      "$dist/examples/bench_app" --runs 2 --idle-secs 5 --wrap "perf record -q \
        -e minor-faults,major-faults -c 1 -o $profiles/faults-$round-{run}.data"
      python3 scripts/code-order.py collect src-tauri/code-order.txt --keep \
        "$profiles"/faults-"$round"-*.data
    done
    # Then the functions of use, listed after the start's: a shorter long history and the big
    # team, recorded system-wide (tauri-driver starts the app): page faults again, and a
    # sample every millisecond of CPU for what runs long enough to be caught.
    for round in 1 2 3 4; do
      build_app
      perf record -a -q -e minor-faults/period=1/ -e major-faults/period=1/ \
        -e cpu-clock/period=1000000/ -o "$profiles/use-$round.data" -- sh -c \
        "'$dist/examples/bench_history' --messages 20000 --runs 2 --pages 40 &&
         '$dist/examples/bench_team' --runs 1" >/dev/null
      python3 scripts/code-order.py collect src-tauri/code-order.txt --in-use \
        "$profiles/use-$round.data"
    done
    build_app
    python3 scripts/code-order.py check "$dist/confab-desktop" src-tauri/code-order.txt
    ;;
  *)
    echo "usage: $0 pusher [--events N] [--warmup N] [--concurrency N] [--timeout-secs N]" >&2
    echo "       $0 app [--runs N] [--idle-secs S]" >&2
    echo "       $0 history [--messages N] [--runs N] [--pages N]" >&2
    echo "       $0 team [--runs N]" >&2
    echo "       $0 order" >&2
    exit 2
    ;;
esac
