#!/usr/bin/env bash
# Packages every Lambda function for arm64 (Graviton): `cargo lambda build --release --arm64
# --output-format zip`, cross-compiling with zig — both from PyPI, installed into .venv by
# setup-tools.sh — then prints each function's bootstrap and zip size. Honours CARGO_TARGET_DIR.
# Not part of the test command: a cold release build takes tens of minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
SWITCHBOARD_CARGO_LAMBDA=1 bash scripts/setup-tools.sh
if [ ! -x .venv/bin/cargo-lambda ]; then
  echo "cargo-lambda could not be installed (pip install cargo-lambda ziglang)" >&2
  exit 1
fi
# cargo-lambda finds zig through the venv's Python (the ziglang wheel).
export PATH="$PWD/.venv/bin:$PATH"
FUNCTIONS=(ingest conversation media templates sender handoff sla-sweeper onboarding operator-api)
args=()
for f in "${FUNCTIONS[@]}"; do args+=(--bin "$f"); done
start=$(date +%s)
cargo lambda build --release --arm64 --output-format zip --locked "${args[@]}"
echo "built in $(( $(date +%s) - start )) s"
lambda_dir="${CARGO_TARGET_DIR:-target}/lambda"
printf '%-14s %12s %12s\n' function "bootstrap" "zip"
for f in "${FUNCTIONS[@]}"; do
  bin="$lambda_dir/$f/bootstrap"
  zip="$lambda_dir/$f/bootstrap.zip"
  printf '%-14s %12s %12s\n' "$f" "$(stat -c %s "$bin" 2>/dev/null || echo -)" "$(stat -c %s "$zip" 2>/dev/null || echo -)"
done
echo "artefacts: $lambda_dir/<function>/bootstrap.zip"
