#!/usr/bin/env bash
# The operator console's tests: build, vitest component tests, then the e2e suite (node --test +
# playwright-core driving Debian's chromium) against a fresh `switchboard serve --demo`.
# Idempotent; run from anywhere. Prints the inbox performance numbers as a `PERF {...}` line and
# leaves screenshots and perf.json in target/web-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ART="$ROOT/target/web-artifacts"
mkdir -p "$ART"

step() { printf '\n== %s\n' "$*"; }

# 1. A browser: Debian's chromium (playwright's own browser downloads do not work here).
if [ ! -x /usr/bin/chromium ]; then
  step "installing chromium"
  # `sudo -n` fails instead of prompting for a password; `env` carries DEBIAN_FRONTEND past sudo.
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo -n"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    chromium fonts-noto-color-emoji >/dev/null
fi

# 2. Node modules, reinstalled only when package-lock.json changed.
STAMP="web/node_modules/.lock-hash"
HASH=$(sha256sum web/package-lock.json | cut -d' ' -f1)
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$HASH" ]; then
  step "npm ci"
  npm ci --prefix web --no-audit --no-fund --loglevel=error
  echo "$HASH" > "$STAMP"
fi

step "typecheck and build the console"
npm --prefix web run --silent typecheck
npm --prefix web run build

step "component tests (vitest)"
npm --prefix web test

step "build switchboard"
cargo build -p switchboard

# 3. A fresh demo server on a free port, stopped on exit.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
DATA=$(mktemp -d)
LOG="$ART/serve.log"
step "switchboard serve --demo on 127.0.0.1:$PORT"
target/debug/switchboard serve --demo --bind "127.0.0.1:$PORT" --data-dir "$DATA" --web-dir web/dist >"$LOG" 2>&1 &
SERVER=$!
cleanup() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  rm -rf "$DATA"
}
trap cleanup EXIT
export SWITCHBOARD_URL="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do
  if curl -fsS "$SWITCHBOARD_URL/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER" 2>/dev/null; then
    echo "switchboard serve exited:"; cat "$LOG"; exit 1
  fi
  sleep 0.2
done
curl -fsS "$SWITCHBOARD_URL/healthz" >/dev/null

step "e2e (node --test web/e2e/)"
set +e
node --test --test-concurrency=1 web/e2e/ 2>&1 | tee "$ART/e2e.log"
STATUS=${PIPESTATUS[0]}
set -e

step "results"
grep -h '^# PERF \|^PERF ' "$ART/e2e.log" | sed 's/^# //' || echo "no PERF line (the perf test did not finish)"
echo "screenshots and perf.json: $ART"
exit "$STATUS"
