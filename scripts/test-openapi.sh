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
SCHEMATHESIS_TELEMETRY=false .venv-schemathesis/bin/schemathesis run "$base/api/openapi.json" \
  --url "$base" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error \
  --phases examples,coverage,fuzzing \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-30}" \
  --workers 2 \
  --no-color \
  --report junit --report-dir target/schemathesis || {
    echo "schemathesis found server errors; the server log:" >&2
    tail -50 "$data/serve.log" >&2
    exit 1
  }
echo "openapi fuzz: ok"
