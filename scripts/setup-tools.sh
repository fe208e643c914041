#!/usr/bin/env bash
# Installs the project's test tools, idempotently: a Python venv under .venv with moto server
# (the AWS API emulator), cfn-lint and the SAM translator, cargo-lambda from PyPI when possible, and
# the CDK app's npm packages (cdk/node_modules).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
tools=("moto[server]==5.2.5" "cfn-lint==1.58.0" "aws-sam-translator==1.115.0")
want="${tools[*]}"
stamp="$VENV/.switchboard-tools"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${tools[@]}"
  echo "$want" > "$stamp"
fi
# The SAM CLI in a venv of its own (its pins on cfn-lint and the translator differ from ours), for
# `sam validate --lint` in scripts/lint-infra.sh.
SAM_VENV=.venv-sam
want_sam="aws-sam-cli==1.170.0"
if [ ! -x "$SAM_VENV/bin/sam" ] || [ "$(cat "$SAM_VENV/.switchboard-sam" 2>/dev/null)" != "$want_sam" ]; then
  [ -x "$SAM_VENV/bin/python" ] || python3 -m venv "$SAM_VENV"
  "$SAM_VENV/bin/pip" install --quiet --disable-pip-version-check "$want_sam"
  echo "$want_sam" > "$SAM_VENV/.switchboard-sam"
fi
# schemathesis in a venv of its own (its pins differ from moto's), for scripts/test-openapi.sh.
ST_VENV=.venv-schemathesis
want_st="schemathesis==4.32.5"
if [ ! -x "$ST_VENV/bin/schemathesis" ] || [ "$(cat "$ST_VENV/.switchboard-st" 2>/dev/null)" != "$want_st" ]; then
  [ -x "$ST_VENV/bin/python" ] || python3 -m venv "$ST_VENV"
  "$ST_VENV/bin/pip" install --quiet --disable-pip-version-check "$want_st"
  echo "$want_st" > "$ST_VENV/.switchboard-st"
fi
# cargo-lambda (with zig, which its cross builds use) from PyPI: seconds, where `cargo install` takes over
# 20 minutes. Optional: scripts/lambda-invoke.sh asks for it with SWITCHBOARD_CARGO_LAMBDA=1 and skips
# when it cannot be had. Versions pinned as they were installed and used together.
if [ "${SWITCHBOARD_CARGO_LAMBDA:-0}" = "1" ]; then
  want_cl="cargo-lambda==1.9.2 ziglang==0.17.1"
  stamp_cl="$VENV/.switchboard-cargo-lambda"
  if [ ! -x "$VENV/bin/cargo-lambda" ] || [ ! -f "$stamp_cl" ] || [ "$(cat "$stamp_cl")" != "$want_cl" ]; then
    # shellcheck disable=SC2086 # word splitting of the package list is intended
    if "$VENV/bin/pip" install --quiet --disable-pip-version-check $want_cl; then
      echo "$want_cl" > "$stamp_cl"
    else
      echo "cargo-lambda not installable here; skipping" >&2
    fi
  fi
fi
# The CDK app (cdk/) and its parity test: `npm ci` when node_modules does not match package-lock.json
# (a stamp holds the lock's hash), so repeated runs cost nothing.
if command -v npm >/dev/null 2>&1; then
  lock_hash="$(sha256sum cdk/package-lock.json | cut -d' ' -f1)"
  stamp_cdk=cdk/node_modules/.switchboard-lock-sha256
  if [ ! -f "$stamp_cdk" ] || [ "$(cat "$stamp_cdk")" != "$lock_hash" ]; then
    npm ci --prefix cdk --no-audit --no-fund --loglevel=error
    echo "$lock_hash" > "$stamp_cdk"
  fi
else
  echo "npm not found: the CDK parity check in scripts/lint-infra.sh will fail" >&2
fi
