#!/usr/bin/env bash
# Fuzzes the operator API from its own OpenAPI document: schemathesis generates requests for every
# route (path, query and body from the schemas, plus the examples and edge cases of its coverage
# phase) against `switchboard serve --demo`, as an operator holding every role, and fails on any
# 5xx. Expects target/debug/switchboard (built here if missing) and setup-tools.sh's venvs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-tools.sh
cargo build -p switchboard --locked --quiet
bin=target/debug/switchboard

data="$(mktemp -d)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$bin" serve --demo --bind "127.0.0.1:$port" --data-dir "$data" --web-dir "$data/no-console" \
  > "$data/serve.log" 2>&1 &
serve_pid=$!
trap 'kill $serve_pid 2>/dev/null || true; wait $serve_pid 2>/dev/null || true; rm -rf "$data"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  if curl -fsS "$base/healthz" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
# Some data for the routes to find: the sample payloads (text, media, button replies, statuses).
"$bin" post --url "$base" --fresh events/payloads/*.json >/dev/null

token="$("$bin" token --user fuzzer --role agent --role lead --role approver --role admin)"
reports="$data/reports"
fuzz() {  # fuzz [--include-name "METHOD /path" ...]; the JUnit report goes to $reports/<n>/
  local dir="$reports/$1"; shift
  SCHEMATHESIS_TELEMETRY=false .venv-schemathesis/bin/schemathesis run "$base/api/openapi.json" \
    --url "$base" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error \
    --phases examples,coverage,fuzzing \
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-30}" \
    --workers 2 \
    --no-color \
    --report junit --report-dir "$dir" "$@" || true
}
# "<failures> <operations that errored>" from a run's JUnit report. A failure is a finding against
# the server (a 5xx); an error is schemathesis itself crashing while generating cases (seen here:
# CPython 3.11's "AST constructor recursion depth mismatch" inside hypothesis, on a different
# operation each run) — that operation went untested, so it is run again rather than ignored.
verdict() {
  python3 - "$1" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
failures, errored = 0, []
for f in glob.glob(sys.argv[1] + "/*.xml"):
    for tc in ET.parse(f).getroot().iter("testcase"):
        tags = [c.tag for c in tc]
        failures += tags.count("failure")
        if "error" in tags and "failure" not in tags:
            errored.append(tc.get("name"))
tested = sum(1 for f in glob.glob(sys.argv[1] + "/*.xml") for _ in ET.parse(f).getroot().iter("testcase"))
# No report at all means schemathesis did not run: that is a failure, not a pass.
print(failures if tested else "no-report", "|".join(errored))
PY
}
fuzz 1
read -r failures errored <<< "$(verdict "$reports/1")"
attempt=1
while [ "$failures" = 0 ] && [ -n "$errored" ] && [ "$attempt" -lt 3 ]; do
  attempt=$((attempt + 1))
  echo "schemathesis crashed generating cases for: $errored; running those again ($attempt)"
  args=()
  IFS='|' read -ra ops <<< "$errored"
  for op in "${ops[@]}"; do args+=(--include-name "$op"); done
  fuzz "$attempt" "${args[@]}"
  read -r failures errored <<< "$(verdict "$reports/$attempt")"
done
mkdir -p target/schemathesis && cp -r "$reports" target/schemathesis/ 2>/dev/null || true
if [ "$failures" != 0 ] || [ -n "$errored" ]; then
  echo "schemathesis: $failures server error(s); untested after retries: ${errored:-none}. Server log:" >&2
  tail -50 "$data/serve.log" >&2
  exit 1
fi
echo "openapi fuzz: ok"
