#!/usr/bin/env bash
# Runs every test: installs the test tools (idempotent), starts moto server on a free loopback
# port, runs the Rust suites (the AWS contract and pipeline suites against moto), lints the
# infrastructure (cfn-lint and `sam validate --lint` on template.yaml and its offline SAM
# translation, least privilege, the CDK stack's parity with it), invokes functions through
# cargo-lambda's local runtime with their events/ fixtures, fuzzes the operator API from its
# OpenAPI document (schemathesis), and runs the console's vitest and Playwright suites.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

bash scripts/setup-tools.sh

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
.venv/bin/moto_server -H 127.0.0.1 -p "$port" > target-moto.log 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true; rm -f target-moto.log' EXIT
for _ in $(seq 1 100); do
  if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then break; fi
  sleep 0.2
done

export SWITCHBOARD_MOTO_URL="http://127.0.0.1:$port"
export SWITCHBOARD_REQUIRE_MOTO=1
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export CARGO_TERM_COLOR=never

cargo test --workspace --locked
# Benchmarks compile and run each case once (criterion's --test mode); timings are for docs/benchmarks.md.
cargo test --workspace --benches --locked -- --test
bash scripts/lint-infra.sh
# The real Lambda runtime loop: every events/ fixture through `cargo lambda watch` + `invoke`.
bash scripts/lambda-invoke.sh
# The operator API fuzzed from its own OpenAPI document: no 5xx.
bash scripts/test-openapi.sh
# The console: vitest, then Playwright (Debian chromium) against a real `switchboard serve --demo`.
bash scripts/test-web.sh

echo "all tests passed in $(( $(date +%s) - start )) s"
