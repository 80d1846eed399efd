#!/usr/bin/env bash
# Cross-builds Confab's core and cache for Windows (x86_64-pc-windows-gnu, with mingw-w64) and
# runs their tests there under Wine, whose credential store stands in for Windows' Credential
# Manager: the core's unit tests, the token's round trip through the keyring crate's real Windows
# backend (crates/confab-core/tests/windows_keyring.rs) and the cache's tests (confab-store).
# Usage: scripts/windows-check.sh [--app]
#   --app   also cross-build the desktop app (src-tauri, debug) for Windows; built, not run
#           (not tried yet on the project machine: see BENCHMARKS.md).
# Idempotent like scripts/bootstrap.sh: installs what is missing (Debian's mingw-w64 and wine64,
# the rustup target), skips what is there. Not part of scripts/test.sh (CI's time limit).
# CARGO_TARGET_DIR is honoured (default: the workspace's target/).
set -euo pipefail
app=no
for arg in "$@"; do
  case "$arg" in --app) app=yes ;; *) echo "usage: $0 [--app]" >&2; exit 2 ;; esac
done
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target=x86_64-pc-windows-gnu

log() { printf '[windows-check] %s\n' "$*" >&2; }
sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo >/dev/null || { log "missing cargo: install the Rust toolchain (rustup) first"; exit 1; }

need_apt=()
for pkg in mingw-w64 wine64; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_ apt-get install -y -qq --no-install-recommends "${need_apt[@]}" \
    </dev/null >/dev/null
fi
rustup target list --installed 2>/dev/null | grep -qx "$target" || rustup target add "$target"

# Debian's wine64 package puts its loader in /usr/lib/wine; the `wine` package adds /usr/bin/wine.
wine="$(command -v wine64 || command -v wine || echo /usr/lib/wine/wine64)"
[ -x "$wine" ] || { log "no Wine loader found (wine64 package)"; exit 1; }

export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$wine"
# A Wine prefix of its own (created on first use, ~20 s), quiet, with no display needed.
export WINEPREFIX="${WINEPREFIX:-$HOME/.cache/confab-wine}"
export WINEDEBUG="${WINEDEBUG:--all}" WINEDLLOVERRIDES="${WINEDLLOVERRIDES:-mscoree,mshtml=}"
unset DISPLAY WAYLAND_DISPLAY
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  log "creating the Wine prefix $WINEPREFIX"
  "$wine" wineboot --init >/dev/null 2>&1 || true
  wineserver_="$(command -v wineserver || echo /usr/lib/wine/wineserver)"
  "$wineserver_" -w || true
fi

# Rust's standard library (1.78+) draws randomness from bcryptprimitives.dll's ProcessPrng, which
# Wine 8 (Debian 12) lacks: the tests would not even start. A 10-line stand-in over
# BCryptGenRandom, built with mingw-w64 into the prefix once. Real Windows has its own.
shim="$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
if [ ! -f "$shim" ]; then
  log "adding a bcryptprimitives.dll (ProcessPrng) to the Wine prefix"
  shim_src="$(mktemp -d)"
  cat >"$shim_src/bcryptprimitives.c" <<'C'
#include <windows.h>
#include <bcrypt.h>
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
    if (BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) return FALSE;
    data += n;
    len -= n;
  }
  return TRUE;
}
C
  printf 'LIBRARY bcryptprimitives\nEXPORTS\nProcessPrng\n' >"$shim_src/bcryptprimitives.def"
  x86_64-w64-mingw32-gcc -O2 -shared -o "$shim" "$shim_src/bcryptprimitives.c" \
    "$shim_src/bcryptprimitives.def" -lbcrypt
  rm -rf "$shim_src"
fi

cd "$root"
start=$SECONDS
log "cross-building the core's and the cache's tests for $target"
cargo test --target "$target" --no-run -p confab-store
cargo test --target "$target" --no-run -p confab-core --lib --test windows_keyring
built=$((SECONDS - start))
log_file="$(mktemp)"
trap 'rm -f "$log_file"' EXIT
start=$SECONDS
log "running them under Wine ($wine)"
cargo test --target "$target" -p confab-store 2>&1 | tee "$log_file"
cargo test --target "$target" -p confab-core --lib --test windows_keyring 2>&1 | tee -a "$log_file"
ran=$((SECONDS - start))
passed="$(grep -o '[0-9]* passed' "$log_file" | awk '{ n += $1 } END { print n + 0 }')"
log "cross-build ${built}s, Wine run ${ran}s: $passed tests passed under Wine"

if [ "$app" = yes ]; then
  # The app embeds the UI: build it first when it is not there (trunk: scripts/bootstrap.sh).
  [ -f src-ui/dist/index.html ] || (cd src-ui && trunk build)
  # A Windows binary carries its icon as a resource, which tauri-build reads from
  # src-tauri/icons/icon.ico: made here from the committed PNGs (ImageMagick), not committed.
  if [ ! -f src-tauri/icons/icon.ico ]; then
    mkdir -p src-tauri/icons
    convert icons/32x32.png icons/128x128.png icons/256x256.png src-tauri/icons/icon.ico
  fi
  start=$SECONDS
  log "cross-building the desktop app for $target"
  cargo build --target "$target" -p confab-desktop
  log "desktop app built in $((SECONDS - start))s: ${CARGO_TARGET_DIR:-target}/$target/debug/confab-desktop.exe"
fi
