#!/usr/bin/env bash
# Packages the Lambda functions for arm64 (Graviton, provided.al2023):
#   cargo lambda build --release --arm64 --output-format zip --locked --bin <fn> ...
# cross-compiling with zig; cargo-lambda and zig both come from PyPI (pinned in setup-tools.sh, installed
# into .venv). Then prints each function's bootstrap size (the binary inside the zip) and zip size.
#
#   scripts/package.sh                 every function (the `switchboard` CLI is not a Lambda: never built)
#   scripts/package.sh ingest sender   only these
#
# Artefacts: <target dir>/lambda/<fn>/bootstrap.zip, the target dir being cargo's (CARGO_TARGET_DIR when
# set, else target/). Idempotent: a second run with nothing changed takes seconds.
# Not part of the test command: a cold release build takes ~30 min on two shared cores (docs/benchmarks.md).
# There is no quick `--check` mode: a debug cross build recompiles every AWS SDK crate for aarch64 too.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

FUNCTIONS=(ingest conversation media templates sender handoff sla-sweeper onboarding operator-api)
selected=()
for arg in "$@"; do
  case "$arg" in
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  esac
  found=0
  for f in "${FUNCTIONS[@]}"; do [ "$f" = "$arg" ] && found=1; done
  if [ "$found" = 0 ]; then
    echo "package: unknown function '$arg' (one of: ${FUNCTIONS[*]})" >&2
    exit 2
  fi
  selected+=("$arg")
done
[ "${#selected[@]}" -gt 0 ] || selected=("${FUNCTIONS[@]}")

# cargo-lambda and zig (setup-tools.sh also installs the other test tools; only cargo-lambda matters here).
if ! SWITCHBOARD_CARGO_LAMBDA=1 bash scripts/setup-tools.sh; then
  echo "package: scripts/setup-tools.sh failed; going on if cargo-lambda is there" >&2
fi
if [ ! -x .venv/bin/cargo-lambda ]; then
  echo "package: cargo-lambda could not be installed (.venv/bin/pip install cargo-lambda==1.9.2 ziglang==0.17.1)" >&2
  exit 1
fi
# `cargo lambda` is found as the cargo-lambda binary on PATH. Zig: cargo-lambda (through cargo-zigbuild)
# tries `zig` on PATH, then `python3 -m ziglang`; with .venv/bin first on PATH that python3 is the venv's,
# which has the ziglang wheel, so no `zig` binary is needed. Only if neither works (a venv without a
# python3 link, say) is a `zig` shim written into .venv/bin.
export PATH="$root/.venv/bin:$PATH"
if ! command -v zig >/dev/null 2>&1 && ! python3 -m ziglang version >/dev/null 2>&1; then
  printf '#!/bin/sh\nexec "%s/.venv/bin/python" -m ziglang "$@"\n' "$root" > .venv/bin/zig
  chmod +x .venv/bin/zig
  echo "package: wrote a zig shim (.venv/bin/zig -> python -m ziglang)" >&2
fi
if command -v zig >/dev/null 2>&1; then zig_version="$(zig version)"; else zig_version="$(python3 -m ziglang version) (python3 -m ziglang)"; fi
echo "rustc $(rustc --version | cut -d' ' -f2-) | $(cargo lambda --version) | zig $zig_version"

target_dir="$(cargo metadata --no-deps --format-version 1 --locked | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
lambda_dir="$target_dir/lambda"

args=()
for f in "${selected[@]}"; do args+=(--bin "$f"); done
start=$(date +%s)
cargo lambda build --release --arm64 --output-format zip --locked "${args[@]}"
echo "package: built in $(( $(date +%s) - start )) s"

# --output-format zip leaves only bootstrap.zip: the binary's size is read from the zip's entry (it is
# the same file as <target dir>/aarch64-unknown-linux-gnu/release/<fn>, stripped by cargo-lambda).
python3 - "$lambda_dir" "${selected[@]}" <<'PY'
import os, sys, zipfile
lambda_dir, names = sys.argv[1], sys.argv[2:]
mib = lambda n: f"{n / 1048576:.2f}"
print(f"{'function':<14} {'bootstrap B':>12} {'MiB':>6} {'zip B':>12} {'MiB':>6}")
missing = 0
for name in names:
    path = os.path.join(lambda_dir, name, "bootstrap.zip")
    try:
        with zipfile.ZipFile(path) as z:
            raw = z.getinfo("bootstrap").file_size
        size = os.path.getsize(path)
        print(f"{name:<14} {raw:>12} {mib(raw):>6} {size:>12} {mib(size):>6}")
    except (OSError, KeyError, zipfile.BadZipFile) as e:
        missing += 1
        print(f"{name:<14} missing or bad: {path} ({e})")
print(f"artefacts: {lambda_dir}/<function>/bootstrap.zip")
sys.exit(1 if missing else 0)
PY
