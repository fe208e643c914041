#!/usr/bin/env bash
# Invokes every Lambda function with its events/ fixtures through the real Lambda runtime loop, locally
# and without Docker: `cargo lambda watch` emulates the Lambda control plane and runs each function's
# debug binary (`cargo run --bin NAME`), `cargo lambda invoke NAME --data-file F` sends one event.
#
#   events/ingest/NNN-*.json          API Gateway HTTP API (v2) events; the response's statusCode must be NNN
#   events/conversation/*.json        SQS events; batchItemFailures must be empty,
#   events/conversation/partial-*.json  ... and non-empty for these
#
# The functions run on the local backend (SWITCHBOARD_BACKEND=local: SQLite and files in a temporary
# directory, secrets from the environment), so no AWS account or emulator is needed.
# cargo-lambda comes from PyPI into .venv (scripts/setup-tools.sh with SWITCHBOARD_CARGO_LAMBDA=1); when
# it cannot be installed the script says so and exits 0.
#
# Knobs: SWITCHBOARD_INVOKE_TIMEOUT (seconds per invocation, default 120; the binaries are built
# before the emulator starts, so an invocation never waits for a compile),
# SWITCHBOARD_WATCH_START_TIMEOUT (seconds for the emulator to listen, default 60).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

if ! SWITCHBOARD_CARGO_LAMBDA=1 bash scripts/setup-tools.sh; then
  echo "lambda-invoke: scripts/setup-tools.sh failed; continuing only if cargo-lambda is already there" >&2
fi
if [ ! -x .venv/bin/cargo-lambda ]; then
  echo "lambda-invoke: SKIPPED: cargo-lambda is not installed (pip install cargo-lambda failed); no function was invoked"
  exit 0
fi
# `cargo lambda` finds the cargo-lambda subcommand on PATH.
export PATH="$root/.venv/bin:$PATH"

shopt -s nullglob
ingest_events=(events/ingest/*.json)
conversation_events=(events/conversation/*.json)
if [ "${#ingest_events[@]}" -eq 0 ] || [ "${#conversation_events[@]}" -eq 0 ]; then
  echo "lambda-invoke: missing fixtures: need events/ingest/*.json and events/conversation/*.json" >&2
  exit 1
fi

invoke_timeout="${SWITCHBOARD_INVOKE_TIMEOUT:-120}"
start_timeout="${SWITCHBOARD_WATCH_START_TIMEOUT:-60}"
host=127.0.0.1 # both sides explicit: cargo-lambda defaults to [::] / ::1, and IPv6 may be off here

tmp="$(mktemp -d)"
watch_pgid=""
cleanup() {
  local rc=$?
  if [ -n "$watch_pgid" ]; then
    # The emulator runs in its own process group (set -m below): stop it and the functions it started,
    # first politely (it forwards SIGTERM to the functions), then for good.
    kill -TERM -- "-$watch_pgid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 -- "-$watch_pgid" 2>/dev/null || break
      sleep 0.5
    done
    kill -KILL -- "-$watch_pgid" 2>/dev/null || true
    wait "$watch_pgid" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ] && [ -f "$tmp/watch.log" ]; then
    echo "---- last lines of the cargo lambda watch log ----" >&2
    tail -n 60 "$tmp/watch.log" >&2 || true
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The functions' environment for a local run. `cargo lambda watch` passes its own environment through
# to the functions and adds --env-file on top; both are set so neither path is relied on alone.
mkdir -p "$tmp/data"
export SWITCHBOARD_BACKEND=local
export SWITCHBOARD_DATA_DIR="$tmp/data"
export SWITCHBOARD_APP_SECRET=switchboard-demo-app-secret # the demo secret scripts/gen-events.py signs the fixtures with
export SWITCHBOARD_VERIFY_TOKEN=switchboard-demo-verify-token
export AWS_REGION="${AWS_REGION:-us-east-1}" # keeps aws-config from probing IMDS if it is ever loaded
function_log="${RUST_LOG:-info}" # for the functions only: cargo-lambda's own output stays as it is
cat >"$tmp/lambda.env" <<EOF
SWITCHBOARD_BACKEND=$SWITCHBOARD_BACKEND
SWITCHBOARD_DATA_DIR=$SWITCHBOARD_DATA_DIR
SWITCHBOARD_APP_SECRET=$SWITCHBOARD_APP_SECRET
SWITCHBOARD_VERIFY_TOKEN=$SWITCHBOARD_VERIFY_TOKEN
AWS_REGION=$AWS_REGION
RUST_LOG=$function_log
EOF

# Build first, with exactly the command the emulator runs (`cargo run --bin NAME` → same artifacts), so
# a compile error shows up here and not as a hung invocation.
for bin in ingest conversation; do
  echo "== cargo build --bin $bin"
  cargo build --bin "$bin"
done

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"

echo "== cargo lambda watch on $host:$port"
# Job control on for this one job: bash starts it in a process group of its own whose id is its pid,
# so the cleanup can stop the emulator together with the cargo and function processes it starts.
set -m
cargo lambda watch \
  --invoke-address "$host" --invoke-port "$port" \
  --ignore-changes \
  --env-file "$tmp/lambda.env" \
  >"$tmp/watch.log" 2>&1 </dev/null &
watch_pgid=$!
set +m

deadline=$((SECONDS + start_timeout))
until (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; do
  if ! kill -0 "$watch_pgid" 2>/dev/null; then
    echo "lambda-invoke: cargo lambda watch exited before listening" >&2
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "lambda-invoke: cargo lambda watch is not listening on $host:$port after ${start_timeout}s" >&2
    exit 1
  fi
  sleep 0.5
done

passed=0
failed=0

# check_response KIND FILE RESPONSE_FILE: prints a verdict, returns 0 when the response is as expected.
check_response() {
  python3 - "$@" <<'PY'
import json
import os
import re
import sys

kind, fixture, response_file = sys.argv[1:4]
name = os.path.basename(fixture)
text = open(response_file).read().strip()
try:
    resp = json.loads(text)
except ValueError:
    # Be tolerant of anything printed before the payload: take the last line that parses.
    resp = None
    for line in reversed(text.splitlines()):
        try:
            resp = json.loads(line)
            break
        except ValueError:
            continue
if not isinstance(resp, dict):
    print(f"no JSON object in the response: {text[:300]!r}")
    sys.exit(1)

if kind == "ingest":
    m = re.match(r"^(\d{3})-", name)
    if not m:
        print("fixture name must start with the expected status code, e.g. 200-signed-text.json")
        sys.exit(1)
    want = int(m.group(1))
    got = resp.get("statusCode")
    if got != want:
        print(f"statusCode {got!r}, expected {want} (body: {str(resp.get('body'))[:200]!r})")
        sys.exit(1)
    print(f"statusCode {got}")
else:
    failures = resp.get("batchItemFailures")
    if not isinstance(failures, list):
        print(f"no batchItemFailures list in {text[:300]!r}")
        sys.exit(1)
    partial = name.startswith("partial-")
    if partial and not failures:
        print("expected a partial batch failure, got batchItemFailures []")
        sys.exit(1)
    if not partial and failures:
        print(f"unexpected batchItemFailures {failures}")
        sys.exit(1)
    print(f"batchItemFailures {len(failures)}")
PY
}

# Functions that stopped answering: the emulator does not restart a function process that exited
# (a panic with panic = "abort", an init error), so every later invocation would wait for the timeout.
dead=" "

# invoke FUNCTION FILE
invoke() {
  local fn="$1" file="$2" verdict
  if [[ "$dead" == *" $fn "* ]]; then
    echo "FAIL  $fn $file: not invoked, $fn stopped answering earlier"
    failed=$((failed + 1))
    return
  fi
  if timeout "$invoke_timeout" cargo lambda invoke "$fn" \
    --invoke-address "$host" --invoke-port "$port" \
    --data-file "$file" >"$tmp/out.json" 2>"$tmp/err.txt"; then
    if verdict="$(check_response "$fn" "$file" "$tmp/out.json")"; then
      echo "ok    $fn $file: $verdict"
      passed=$((passed + 1))
      return
    fi
  else
    local rc=$?
    if [ "$rc" -eq 124 ]; then
      verdict="no response within ${invoke_timeout}s"
      if grep -q "command exited" "$tmp/watch.log"; then
        verdict="$verdict; the emulator's log says: $(grep "command exited" "$tmp/watch.log" | tail -n 1 | cut -c1-200)"
      fi
      dead="$dead$fn "
    else
      verdict="cargo lambda invoke failed (exit $rc): $(tr '\n' ' ' <"$tmp/err.txt" | cut -c1-400)"
    fi
  fi
  echo "FAIL  $fn $file: $verdict"
  failed=$((failed + 1))
}

for f in "${ingest_events[@]}"; do invoke ingest "$f"; done
for f in "${conversation_events[@]}"; do invoke conversation "$f"; done

echo "lambda-invoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
