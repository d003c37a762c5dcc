#!/usr/bin/env bash
# Two `stance` binaries side by side on the same corpus: `stance run` on the first DOCS AllSides
# articles (a manifest corpus, which every version reads), alternating A and B ROUNDS times;
# prints each run's labelling rate and peak RSS. Build the baseline from another commit, e.g.
#   git worktree add /tmp/base COMMIT && (cd /tmp/base && ln -s /work/main/.libtorch . && cargo build --release)
#   bench/run_ab.sh /tmp/base/target/release/stance target/release/stance 60 2
set -euo pipefail
cd "$(dirname "$0")/.."
a=$1 b=$2 docs=${3:-60} rounds=${4:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 scripts/allsides_corpus.py "$work/corpus" >/dev/null
head -n $((docs + 1)) "$work/corpus/manifest.csv" >"$work/corpus/subset.csv"
for round in $(seq 1 "$rounds"); do
  for which in A B; do
    bin=$a
    [ $which = B ] && bin=$b
    rm -rf "$work/out"
    /usr/bin/time -f %M -o "$work/rss" "$bin" --quiet run --manifest "$work/corpus/subset.csv" --out "$work/out"
    python3 - "$work/out/run.json" "$(tail -1 "$work/rss")" "$which" "$round" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"round {sys.argv[4]} {sys.argv[3]}: {r['counts']['documents']} documents, {r['counts']['sentences']} sentences, "
      f"{r['sentences_per_second']:.1f} sentences/s labelling, model load {r['timings_seconds']['model_load']:.1f} s, "
      f"peak RSS {int(sys.argv[2]) / 1024:.0f} MB")
PY
  done
done
