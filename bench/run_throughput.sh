#!/usr/bin/env bash
# Sentences per second of `stance run`: the seed corpus copied COPIES times (default 20, about
# 2,700 sentences), labelled in one run; prints run.json's counts and timings.
# Usage: bench/run_throughput.sh [COPIES [STANCE-RUN-OPTIONS…]]   (after `make build`)
#   e.g. bench/run_throughput.sh 20 --sentiment zero-shot
set -euo pipefail
cd "$(dirname "$0")/.."
copies="${1:-20}"
shift || true
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "doc_id,path,outlet,group,title,date,url" > "$work/manifest.csv"
for i in $(seq 1 "$copies"); do
    tail -n +2 seeds/manifest.csv | while IFS= read -r line; do
        id="${line%%,*}"
        rest="${line#*,}"
        file="${rest%%,*}"
        cp "seeds/$file" "$work/$i-$file"
        echo "$i-$id,$i-${rest}" >> "$work/manifest.csv"
    done
done
target/release/stance run --manifest "$work/manifest.csv" --out "$work/out" --device "${DEVICE:-auto}" "$@"
python3 - "$work/out/run.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t = r["timings_seconds"]
print(f"documents {r['counts']['documents']}, sentences {r['counts']['sentences']}")
print(f"model load {t['model_load']:.2f} s, labelling {t['labeling']:.2f} s, total {t['total']:.2f} s")
print(f"sentences/s (labelling): {r['sentences_per_second']:.1f}; device {r['model']['device']}; sentiment from {r.get('sentiment_source')}")
print(f"sentences mentioning the entity: {r['counts'].get('entity_mentions')}")
PY
