#!/usr/bin/env bash
# Runs the product on this machine: builds the operator console (npm, only when its lock changed or
# it was never built) and starts `switchboard serve --demo` with embedded storage, a demo tenant,
# the Graph API fake and the customer simulator. Extra arguments go to `switchboard serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v npm >/dev/null 2>&1; then
  stamp=web/node_modules/.lock-hash
  hash=$(sha256sum web/package-lock.json | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ]; then
    npm ci --prefix web --no-audit --no-fund --loglevel=error
    echo "$hash" > "$stamp"
  fi
  newest_src=$(find web/src web/index.html -newer web/dist/index.html 2>/dev/null | head -1 || true)
  if [ ! -f web/dist/index.html ] || [ -n "$newest_src" ]; then
    npm --prefix web run build --silent
  fi
else
  echo "npm not found: serving the API without the console (install Node.js 20+ for the console)" >&2
fi
exec cargo run -p switchboard -- serve --demo --web-dir web/dist "$@"
