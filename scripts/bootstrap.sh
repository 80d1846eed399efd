#!/usr/bin/env bash
# Installs what Confab's run and test commands need on Debian 12, skipping what is already there.
# Usage: scripts/bootstrap.sh [test|run|bench|app]   (idempotent: a second run only checks, in seconds)
#   test   build + test the workspace, end-to-end tests of the app window included: Sockudo (with
#          its Redis adapter) and redis-server, the GTK/WebKit -dev libraries, the UI toolchain
#          (wasm32 target, trunk, wasm-bindgen-cli), tauri-driver + WebKitWebDriver, Xvfb, a
#          D-Bus session with gnome-keyring and dunst, Caddy and PostgreSQL 15
#   app    the same, plus the Tauri CLI (npm, for `tauri build`) and ImageMagick
#
# It assumes a Rust toolchain (cargo, rustfmt, clippy) is already installed, as on every machine of
# this project; it only reaches Debian's packages, crates.io and the npm registry.
set -euo pipefail
what="${1:-test}"
case "$what" in test | run | bench | app) ;; *) echo "usage: $0 [test|run|bench|app]" >&2; exit 2 ;; esac
SOCKUDO_VERSION=5.2.0
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { printf '[bootstrap] %s\n' "$*" >&2; }
sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

export PATH="$HOME/.cargo/bin:$PATH"
for tool in cargo rustfmt cargo-clippy; do
  command -v "$tool" >/dev/null || { log "missing $tool: install the Rust toolchain (rustup) first"; exit 1; }
done

# Build dependencies of Sockudo and of Confab's crates (libdbus-1-dev: the core's keyring client;
# GTK's -dev packages pull it in too).
need_apt=()
for pkg in pkg-config libssl-dev protobuf-compiler libprotobuf-dev build-essential libdbus-1-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$pkg")
done
# The desktop crate (src-tauri) links GTK and WebKitGTK: every mode that builds the workspace.
for pkg in libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev \
  libsoup-3.0-dev libxdo-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$pkg")
done
if [ "$what" = test ] || [ "$what" = app ]; then
  # The core's keyring tests run a real Secret Service (gnome-keyring) on a private D-Bus
  # session; the backend's interoperability test runs pusher-js under Node; `app` gets the
  # Tauri CLI from npm. Node and npm are checked as commands, not Debian packages: a Node.js
  # from elsewhere (NodeSource's nodejs bundles npm) is fine, and Debian's npm conflicts with it.
  # systemd-analyze checks the deployment kit's units (deploy/*.service) offline.
  for pkg in dbus gnome-keyring systemd; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$pkg")
  done
  command -v node >/dev/null || need_apt+=(nodejs)
  command -v npm >/dev/null || need_apt+=(npm)
fi
if [ "$what" = test ]; then
  # The backend's edge tests run deploy/Caddyfile under a real Caddy (TLS with a test CA); the
  # cluster tests run two Sockudo nodes over a real Redis (the testkit starts its own
  # redis-server on a free port; the system's service is not used). confab-testkit's Postgres
  # runs throwaway clusters with Debian 12's PostgreSQL 15 (the server package pulls in
  # postgresql-client-15; the tests need its binaries, not the system cluster it starts).
  for pkg in caddy redis-server postgresql-15; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$pkg")
  done
fi
if [ "$what" = test ] || [ "$what" = app ] || [ "$what" = bench ]; then
  # Running the window headless and driving it: Xvfb, WebKitWebDriver, a session bus with a
  # Secret Service (and its unlock dialog, gcr) and a notification daemon, ImageMagick for the
  # tests' screenshots, and the settings portal with GNOME's color-scheme key behind it.
  for pkg in xvfb xauth webkit2gtk-driver dbus dbus-x11 gnome-keyring gcr dunst libnotify-bin \
    imagemagick xdg-desktop-portal-gtk gsettings-desktop-schemas dconf-gsettings-backend \
    libglib2.0-bin locales x11-utils; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$pkg")
  done
fi
if [ "$what" = bench ]; then
  command -v node >/dev/null || need_apt+=(nodejs npm)
  # `scripts/bench.sh order` runs the app under callgrind and perf, and reads the binary's
  # symbols (nm).
  for pkg in valgrind linux-perf binutils; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$pkg")
  done
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_ apt-get install -y -qq "${need_apt[@]}" </dev/null >/dev/null
fi

if [ "$what" = test ]; then
  # The clock test runs the window in American English and in German: the webview reads its
  # language from the C library's locale, so both must exist (a second each to generate).
  for loc in en_US de_DE; do
    locale -a 2>/dev/null | grep -qix "$loc.utf8" || {
      log "generating the $loc.UTF-8 locale"
      sudo_ localedef -i "$loc" -f UTF-8 "$loc.UTF-8"
    }
  done
fi

# Sockudo, the Pusher-protocol server the demo and the tests run (sockudo-process finds it on
# PATH, in ~/.cargo/bin, or wherever SOCKUDO_BIN points). One binary with two adapters: `local`
# (what the demo and most tests run) and `redis` (nodes of a cluster, for the cluster tests).
# The version alone does not tell whether the Redis adapter is in, so the features come from
# cargo's record of its installs (~/.cargo/.crates2.json); an older local-only install is
# rebuilt once.
sockudo_installed() {
  local record with_redis='"features":\[[^]]*"redis"'
  "$HOME/.cargo/bin/sockudo" --version 2>/dev/null | grep -qF "$SOCKUDO_VERSION" || return 1
  # The install's record, `"sockudo 5.2.0 (registry+...)":{..., "features":[...], ...}`, holds
  # no nested object; newlines are dropped in case cargo ever writes the file pretty-printed.
  record="$(tr -d '\n' 2>/dev/null <"$HOME/.cargo/.crates2.json" |
    grep -o "\"sockudo $SOCKUDO_VERSION [^\"]*\":{[^}]*}")" || return 1
  [[ $record =~ $with_redis ]]
}
if ! sockudo_installed; then
  log "installing sockudo $SOCKUDO_VERSION with its Redis adapter from crates.io (about 15 minutes the first time)"
  cargo install sockudo --version "$SOCKUDO_VERSION" --locked --no-default-features --features local,redis
fi

# pusher-js for the client benchmark, exactly as tests/node/package-lock.json pins it; again only
# when the lock file changed since the last install (npm ci keeps its own copy in node_modules).
node_dir="$root/tests/node"
if [ "$what" = bench ] && [ -f "$node_dir/package-lock.json" ]; then
  if [ ! -f "$node_dir/node_modules/.package-lock.json" ] ||
    [ "$node_dir/package-lock.json" -nt "$node_dir/node_modules/.package-lock.json" ]; then
    log "npm ci in tests/node (pusher-js, for the client benchmark)"
    npm ci --prefix "$node_dir" --no-audit --no-fund --silent
  fi
fi
if [ "$what" != run ]; then
  # The UI (wasm32) is built by trunk, which runs the wasm-bindgen CLI of exactly the version in
  # Cargo.lock (Trunk.toml pins it and builds offline, so trunk never downloads anything).
  rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown ||
    rustup target add wasm32-unknown-unknown
  TRUNK_VERSION=0.21.14
  if ! trunk --version 2>/dev/null | grep -qF "$TRUNK_VERSION"; then
    log "installing trunk $TRUNK_VERSION (a few minutes the first time)"
    cargo install --locked trunk --version "$TRUNK_VERSION"
  fi
  wbg_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$root/Cargo.lock")"
  if ! wasm-bindgen --version 2>/dev/null | grep -qF "$wbg_version"; then
    log "installing wasm-bindgen-cli $wbg_version (matches Cargo.lock)"
    cargo install wasm-bindgen-cli --version "$wbg_version"
  fi
  grep -qF "wasm_bindgen = \"$wbg_version\"" "$root/src-ui/Trunk.toml" || {
    log "src-ui/Trunk.toml pins another wasm-bindgen than Cargo.lock ($wbg_version): fix one of them"
    exit 1
  }
  # wasm-opt (binaryen), which trunk runs on the UI's module (src-ui/index.html, data-wasm-opt),
  # of the version Trunk.toml pins. From the npm registry: Debian 12's binaryen (108) cannot read
  # the module today's rustc writes. The package's wasm-opt is one self-contained Node script;
  # it is linked into ~/.cargo/bin beside trunk, so a plain `trunk build` finds it too.
  BINARYEN_VERSION=132
  if ! wasm-opt --version 2>/dev/null | grep -qF "(version_$BINARYEN_VERSION)"; then
    log "installing wasm-opt (binaryen $BINARYEN_VERSION, from npm)"
    binaryen_dir="${XDG_CACHE_HOME:-$HOME/.cache}/confab/binaryen-$BINARYEN_VERSION"
    npm install --prefix "$binaryen_dir" --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION.0.0"
    ln -sf "$binaryen_dir/node_modules/binaryen/bin/wasm-opt" "${CARGO_HOME:-$HOME/.cargo}/bin/wasm-opt"
  fi
  grep -qF "wasm_opt = \"version_$BINARYEN_VERSION\"" "$root/src-ui/Trunk.toml" || {
    log "src-ui/Trunk.toml pins another wasm-opt than this script installs ($BINARYEN_VERSION): fix one of them"
    exit 1
  }
  # tauri-driver: the WebDriver bridge the end-to-end tests use (with /usr/bin/WebKitWebDriver).
  command -v tauri-driver >/dev/null || cargo install --locked tauri-driver --version 2.1.0
fi
if [ "$what" = app ]; then
  # The Tauri CLI (for `tauri build`: .deb and AppImage), from npm as src-tauri/package-lock.json pins it.
  tauri_dir="$root/src-tauri"
  if [ ! -f "$tauri_dir/node_modules/.package-lock.json" ] ||
    [ "$tauri_dir/package-lock.json" -nt "$tauri_dir/node_modules/.package-lock.json" ]; then
    log "npm ci in src-tauri (the Tauri CLI)"
    npm ci --prefix "$tauri_dir" --no-audit --no-fund --silent
  fi
fi
log "ready"
