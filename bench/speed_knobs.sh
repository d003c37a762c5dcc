#!/usr/bin/env bash
# The measurements behind the default batch size and the per-pass rate (README, "Speed"):
#   1. `stance classify` on every seed sentence ×10 (1,340) at batch sizes 4…128 (int8);
#   2. `stance run` on the first 40 AllSides articles at batches of 16 and 32: sentences/s and
#      peak RSS (needs ../shared/datasets);
#   3. one encoder pass (the stance head alone, `stance eval --data`) over the 1,340 sentences,
#      int8 and f32: wall time less that of the same command on one row (start and model load).
# Each configuration runs ROUNDS times (default 2), in turn. After `make build`.
#   bench/speed_knobs.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
S=target/release/stance
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bench/seed_sentences.sh 10 >"$work/sentences.txt"
config() { sed "s/^batch_size = .*/batch_size = $1/" stance.toml >"$work/cfg-$1.toml"; echo "$work/cfg-$1.toml"; }
rate() { sed -n 's/.*(\([0-9.]*\) sentences\/s.*/\1/p' "$1" | tail -1; }
for round in $(seq "$rounds"); do
  for b in 4 8 16 32 64 128; do
    $S classify --config "$(config "$b")" <"$work/sentences.txt" >/dev/null 2>"$work/err"
    echo "round $round: classify, batch $b: $(rate "$work/err") sentences/s"
  done
done
jsonl=../shared/datasets/allsides-japan/articles.jsonl
if [ -f "$jsonl" ]; then
  head -40 "$jsonl" >"$work/c40.jsonl"
  for round in $(seq "$rounds"); do
    for b in 16 32; do
      rm -rf "$work/run"
      /usr/bin/time -f %M -o "$work/rss" $S --quiet run --config "$(config "$b")" --corpus "$work/c40.jsonl" --field id=ID \
        --field text=content_original --field outlet=source --field group=bias_text --out "$work/run"
      python3 - "$work" "$round" "$b" <<'PY'
import json, sys
work, r, b = sys.argv[1:4]
run = json.load(open(f"{work}/run/run.json"))
rss = int(open(f"{work}/rss").read().split()[-1]) / 1024
print(f"round {r}: run, 40 AllSides articles, batch {b}: {run['sentences_per_second']:.1f} sentences/s, peak RSS {rss:.0f} MB")
PY
    done
  done
fi
python3 - "$work" <<'PY'
import csv, sys
work = sys.argv[1]
with open(f"{work}/onepass.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["text", "target", "stance"])
    for line in open(f"{work}/sentences.txt", encoding="utf-8"):
        if line.strip():
            w.writerow([line.rstrip("\n"), "Japan's rearmament", "none"])
PY
head -2 "$work/onepass.csv" >"$work/onerow.csv"
n=$(($(wc -l <"$work/onepass.csv") - 1))
# Wall seconds of `stance eval` on FILE: the fixed cost (start, model load) is that of one row.
wall() {
  local start end
  start=$(date +%s.%N)
  $S eval --data "$1" --precision "$2" --out "$work/scores.csv" >/dev/null
  end=$(date +%s.%N)
  python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$start" "$end"
}
for round in $(seq "$rounds"); do
  for p in int8 f32; do
    fixed=$(wall "$work/onerow.csv" "$p")
    all=$(wall "$work/onepass.csv" "$p")
    python3 -c "import sys; n, a, f = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]); print(f'round {sys.argv[4]}: one pass ({sys.argv[5]}): {n / (a - f):.0f} sentences/s ({a:.2f} s wall, less {f:.2f} s for one row)')" \
      "$n" "$all" "$fixed" "$round" "$p"
  done
done
