#!/usr/bin/env bash
# Peak memory of `stance run` as the corpus grows: the first DOCS AllSides articles as a JSONL
# corpus, then the same articles repeated ×TIMES under new ids (so TIMES× the sentences). A run
# holds one document's text at a time, so peak RSS should stay flat; what grows is only the
# keys and probabilities kept for the profiles (about 100 bytes a sentence).
#   bench/rss_scaling.sh [DOCS] [TIMES] [OUT]     # default 20 10 /tmp/stance-rss
set -euo pipefail
cd "$(dirname "$0")/.."
docs=${1:-20} times=${2:-10} out=${3:-/tmp/stance-rss}
S=${STANCE_BIN:-target/release/stance}  # STANCE_BIN: a frozen copy, to rebuild during a long run
jsonl=../shared/datasets/allsides-japan/articles.jsonl
mkdir -p "$out"
python3 - "$jsonl" "$docs" "$times" "$out" <<'PY'
import json, sys
src, docs, times, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rows = [json.loads(l) for l in open(src, encoding="utf-8")][:docs]
for k in (1, times):
    with open(f"{out}/corpus-x{k}.jsonl", "w", encoding="utf-8") as f:
        for r in range(k):
            for row in rows:
                f.write(json.dumps(dict(row, ID=f"{row['ID']}-{r}")) + "\n")
PY
fields=(--field id=ID --field text=content_original --field outlet=source --field group=bias_text)
for k in 1 "$times"; do
  rm -rf "$out/run-x$k"
  /usr/bin/time -f "%M" -o "$out/rss-x$k" $S --quiet run --corpus "$out/corpus-x$k.jsonl" "${fields[@]}" --out "$out/run-x$k"
  python3 - "$out" "$k" <<'PY'
import json, sys
out, k = sys.argv[1], sys.argv[2]
run = json.load(open(f"{out}/run-x{k}/run.json"))
rss = int(open(f"{out}/rss-x{k}").read().split()[-1]) / 1024
print(f"x{k}: {run['counts']['documents']} documents, {run['counts']['sentences']} sentences, "
      f"{run['sentences_per_second']:.1f} sentences/s, threads {run['threads']}, peak RSS {rss:.0f} MB")
PY
done
