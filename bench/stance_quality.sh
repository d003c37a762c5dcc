#!/usr/bin/env bash
# Scores a stance model on every set the stance-quality figures come from, and writes one line per
# set into OUT/summary.txt:
#   seed gold        134 sentences of the seed corpus (stance run + stance eval; never trained on)
#   allsides heldout AllSides-Japan gold rows of the documents in fold 1 of 2 (by SHA-256 of doc_id;
#                    data/recipes/stance-v4-stage3.toml trains on fold 0 only)
#   allsides all     all 706 AllSides-Japan gold rows (in-sample for a model trained on fold 0)
#   VAST dev         2,062 rows (needs ../shared/datasets)
#   direction        each seed group's stance index, raw and error-adjusted (calibrated on the seed
#                    gold itself: in-sample), beside the gold's index
# Needs ../shared/datasets (the AllSides fold is rebuilt with `stance data compose`, whose recipe
# reads VAST train too), also with --no-vast.
# Usage: bench/stance_quality.sh MODEL_DIR OUT_DIR [--no-vast]
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1 out=$2
S=target/release/stance
mkdir -p "$out"
$S data compose data/recipes/stance-v4-stage3.toml --out "$out/rows" 2>/dev/null
$S run --model "$model" --manifest seeds/manifest.csv --out "$out/seeds" 2>/dev/null
$S run --model "$model" --manifest seeds/manifest.csv --calibration eval/gold/seeds.csv --out "$out/seeds-calibrated" 2>/dev/null
{
  echo "model: $model"
  echo "seed gold:        $($S eval --gold eval/gold/seeds.csv --pred "$out/seeds/sentences.csv" --out "$out/seeds-eval.csv" | grep -A7 '^stance' | grep -E 'macro-F1|called')"
  echo "allsides heldout: $($S eval --data "$out/rows/gold-heldout.csv" --model "$model" --out "$out/heldout.csv" | sed -n 2p)"
  echo "allsides all:     $($S eval --data eval/gold/allsides-dev.csv --model "$model" --out "$out/allsides.csv" | sed -n 2p)"
  if [ "${3:-}" != "--no-vast" ]; then
    echo "VAST dev:         $($S eval --data ../shared/datasets/vast/vast_dev.compact.csv --label-map 0=against,1=favor,2=none --model "$model" --out "$out/vast.csv" | sed -n 2p)"
  fi
  python3 - "$out/seeds-calibrated/profiles.csv" <<'PY'
import csv, sys, collections
gold = list(csv.DictReader(open("eval/gold/seeds.csv", encoding="utf-8")))
manifest = {r["doc_id"]: r["group"] for r in csv.DictReader(open("seeds/manifest.csv", encoding="utf-8"))}
by = collections.defaultdict(list)
for r in gold:
    by[manifest[r["doc_id"]]].append(r["stance"])
for p in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    if p["level"] != "group":
        continue
    g = by[p["key"]]
    gi = (g.count("favor") - g.count("against")) / len(g)
    print(f"direction {p['key']:<17} gold {gi:+.3f}  raw {float(p['stance_index']):+.3f} ({float(p['stance_index_low']):+.3f} to {float(p['stance_index_high']):+.3f})"
          f"  adjusted {float(p['adjusted_stance_index'] or 'nan'):+.3f} ({float(p['adjusted_stance_index_low'] or 'nan'):+.3f} to {float(p['adjusted_stance_index_high'] or 'nan'):+.3f})")
PY
} | tee "$out/summary.txt"
