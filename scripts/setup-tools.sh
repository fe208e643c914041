#!/usr/bin/env bash
# Installs the project's test tools, idempotently: a Python venv under .venv with moto server
# (the AWS API emulator), cfn-lint and the SAM translator, and cargo-lambda from PyPI when possible.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
want="moto[server]==5.2.5 cfn-lint==1.58.0 aws-sam-translator"
stamp="$VENV/.switchboard-tools"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check $want
  echo "$want" > "$stamp"
fi
# cargo-lambda is optional for the test suite (scripts/lambda-invoke.sh uses it when present).
if [ "${SWITCHBOARD_CARGO_LAMBDA:-0}" = "1" ] && [ ! -x "$VENV/bin/cargo-lambda" ]; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check cargo-lambda ziglang || echo "cargo-lambda not installable here; skipping"
fi
