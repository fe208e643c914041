#!/usr/bin/env bash
# The NLU benchmark on public data (docs/benchmarks.md, "NLU on public data"); not part of the
# test suite. Downloads CLINC150/HWU64/MCID (scripts/nlu-data.sh), builds the benchmark example in
# release mode (several minutes on a cold machine), then for each dataset: trains on train,
# calibrates on dev, refits on train + dev, tests on test; reports accuracy, macro-F1, ECE,
# training time, latency, model size, and open-set rejection for fold part0 at known ratios
# 0.25/0.5/0.75. Finally criterion measures predict latency on the CLINC150 model.
# Results: target/nlu-benchmark/*.json and a Markdown summary on stdout.
# SWITCHBOARD_NLU_CRITERION=0 skips the criterion run.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(bash scripts/nlu-data.sh)
out=target/nlu-benchmark
mkdir -p "$out"
cargo build --release --locked -p switchboard-nlu --example benchmark
bin=target/release/examples/benchmark
for ds in clinc hwu mcid; do
  "$bin" --data "$data" --dataset "$ds" --open-set --json "$out/$ds.json" --save "$out/$ds.sbnlu" | tee "$out/$ds.txt"
done
if [ "${SWITCHBOARD_NLU_CRITERION:-1}" = "1" ]; then
  SWITCHBOARD_NLU_BENCH_MODEL="$PWD/$out/clinc.sbnlu" cargo bench --locked -p switchboard-nlu --bench predict 2>&1 \
    | tee "$out/criterion.txt"
fi
python3 - "$out" <<'PY'
import json, sys, os
out = sys.argv[1]
rows = [json.load(open(os.path.join(out, f"{ds}.json"))) for ds in ("clinc", "hwu", "mcid")]
print("\n| dataset | accuracy | macro-F1 | ECE | training | vocabulary | model file | load | predict p50 / p99 |")
print("|---|---|---|---|---|---|---|---|---|")
for r in rows:
    l = r["latency_us"]
    print(f"| {r['dataset']} | {100*r['accuracy']:.2f} % | {100*r['macro_f1']:.2f} % | {100*r['ece']:.2f} % "
          f"| {r['train_seconds']:.1f} s | {r['vocabulary']:,} | {r['model_bytes']/1e6:.2f} MB | {r['load_ms']:.1f} ms "
          f"| {l['p50']:.1f} / {l['p99']:.1f} µs |")
print("\n| dataset | known | per-intent: known acc / unknown rejected / open macro-F1 | one global threshold |")
print("|---|---|---|---|")
for r in rows:
    for o in r["open_set"]:
        t, d = o["tuned"], o["default"]
        f = lambda x: f"{100*x['known_accuracy']:.1f} / {100*x['unknown_rejection_rate']:.1f} / {100*x['open_macro_f1']:.1f}"
        print(f"| {r['dataset']} | {o['known_ratio']} | {f(t)} | {f(d)} |")
PY
