#!/usr/bin/env bash
# Fuzzes the backend's REST API with schemathesis (PyPI) from its own OpenAPI document, with a
# valid bearer token, and fails on any 5xx or any response that breaks the document.
#
# What it does, from any directory:
#   1. installs schemathesis into target/schemathesis-venv (once; skipped when present),
#   2. builds confab-server and starts `confab-server demo --bind 127.0.0.1:0` (a fresh database,
#      seeded users, Sockudo as its child process); the port is the free one the kernel picked,
#      read back from the first line the demo prints,
#   3. logs in as the demo user Ada and fuzzes http://127.0.0.1:PORT/api/openapi.json with
#      `Authorization: Bearer TOKEN`,
#   4. stops the server on exit (SIGTERM: it shuts down gracefully and stops its Sockudo).
#
# Checks: not_a_server_error (no 5xx on any input), status_code_conformance,
# content_type_conformance and response_schema_conformance (every answer is one the document
# declares, in the declared shape), unsupported_method (405 for a method a route lacks).
# Not checked (yet): positive_data_acceptance and negative_data_rejection, which need the
# request schemas to carry the limits the server enforces (minLength/maxLength on texts,
# minimum on seqs, the socket-id pattern); without them they flag correct 400/422 answers.
#
# Excluded on purpose:
#   - POST /api/auth/logout: with the valid token it would revoke that token, and every later
#     request would only test the 401 path.
# Fuzzed on purpose:
#   - POST /api/auth/login: failed logins are throttled per (email, address) and per address
#     (429 with Retry-After), but the token is taken before the run and tokens already issued
#     stay valid, so the throttle cannot starve the run.
#
# Environment:
#   SCHEMATHESIS_MAX_EXAMPLES  test cases per operation and phase (default 100: about 30 s of
#                              fuzzing on 2 cores once built; 300 takes about 75 s)
#   SCHEMATHESIS_SEED          fixed seed for a reproducible run (default: random, printed)
#   SCHEMATHESIS_ARGS          extra arguments passed to `schemathesis run` as they are
# Logs: target/schemathesis/ (server log, JUnit report).
#
# One worker on purpose: with several, schemathesis 4.32 on CPython 3.11 intermittently fails
# with "SystemError: AST constructor recursion depth mismatch" (ast.parse from hypothesis in
# threads), an error of the tool and not of the server.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"

SCHEMATHESIS_VERSION="4.32.5"
venv="$root/target/schemathesis-venv"
out="$root/target/schemathesis"
max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-100}"
seed="${SCHEMATHESIS_SEED:-$(python3 -c 'import random; print(random.randrange(1, 2**31))')}"

step() { printf '\n[schemathesis] %s\n' "$*" >&2; }
die() { printf '[schemathesis] error: %s\n' "$*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 is needed (apt-get install python3 python3-venv)"
command -v curl >/dev/null || die "curl is needed (apt-get install curl)"

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  step "installing schemathesis $SCHEMATHESIS_VERSION into ${venv#"$root"/}"
  rm -rf "$venv"
  python3 -m venv "$venv" || die "python3 -m venv failed (apt-get install python3-venv)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

step "building confab-server"
cargo build --quiet -p confab-server
target_dir="${CARGO_TARGET_DIR:-$root/target}"
bin="$target_dir/debug/confab-server"

mkdir -p "$out"
work="$(mktemp -d -t confab-schemathesis.XXXXXX)"
log="$out/server.log"
server_pid=""
cleanup() {
  local status=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    # SIGTERM: graceful shutdown, then the demo stops its Sockudo child and exits.
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$server_pid" 2>/dev/null; then
      printf '[schemathesis] the server did not stop in 10 s; killing it\n' >&2
      kill -KILL "$server_pid" 2>/dev/null || true
    fi
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "starting confab-server demo on a free loopback port"
"$bin" demo --bind 127.0.0.1:0 --db "$work/server.db" >"$log" 2>&1 &
server_pid=$!
base=""
for _ in $(seq 1 300); do
  base="$(sed -n 's|^Confab demo server on \(http://127\.0\.0\.1:[0-9]*\)$|\1|p' "$log")"
  grep -q "Press Ctrl-C" "$log" && [ -n "$base" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; die "the demo server exited"; }
  sleep 0.1
done
grep -q "Press Ctrl-C" "$log" || { cat "$log" >&2; die "the demo server did not start in 30 s"; }
curl -fsS --retry 20 --retry-connrefused --retry-delay 0 --max-time 5 "$base/healthz" >/dev/null \
  || die "$base/healthz did not answer"
step "server up on $base"

email="ada@confab.local"
password="$(sed -n "s|^ *$email *password \([^ ]*\) .*|\1|p" "$log")"
[ -n "$password" ] || { cat "$log" >&2; die "no password printed for $email"; }
login_body="$(python3 -c 'import json,sys; print(json.dumps({"email": sys.argv[1], "password": sys.argv[2]}))' \
  "$email" "$password")"
token="$(curl -fsS --max-time 30 -H 'content-type: application/json' -d "$login_body" \
  "$base/api/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')" \
  || die "logging in as $email failed"
curl -fsS --max-time 5 -H "authorization: Bearer $token" "$base/api/me" >/dev/null \
  || die "the token does not work for /api/me"

step "schemathesis run: $max_examples examples per operation, seed $seed (logout excluded)"
started=$SECONDS
# From target/schemathesis/: schemathesis keeps a .schemathesis/ cache in its working directory.
cd "$out"
# shellcheck disable=SC2086 # SCHEMATHESIS_ARGS is split into arguments on purpose.
"$venv/bin/schemathesis" run "$base/api/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,unsupported_method \
  --exclude-path /api/auth/logout \
  --max-examples "$max_examples" \
  --seed "$seed" \
  --workers 1 \
  --request-timeout 30 \
  --generation-database none \
  --report junit --report-junit-path "$out/junit.xml" \
  --no-color \
  ${SCHEMATHESIS_ARGS:-}
step "passed in $((SECONDS - started)) s (seed $seed)"
