#!/usr/bin/env bash
# `stance classify` side by side with the Python stack it replaces (bench/vs_python.py:
# transformers 4.44.2 on torch 2.4.0, the same MiniLM-L6 files and sentences, the same thread
# count), alternating runs, each ROUNDS times (default 5); prints each round's rates (stance with
# its default int8 linear layers and with --precision f32), their ratios to Python's and peak RSS,
# then min / median / max of each side, the median ratio, stance's max/min, and the CPU.
# The sentences: every seed sentence (`stance split`) ×COPIES (default 10: 1,340 sentences).
# Sets up, once, a Python environment in $STANCE_CACHE/bench-python-torch240 (torch 2.4.0 from
# PyPI with its hash-pinned NVIDIA wheels, which the Python module needs even on a CPU: ~3 GB;
# not part of `make test`).
#   bench/vs_python.sh [COPIES] [ROUNDS]        (after `make build`)
set -euo pipefail
cd "$(dirname "$0")/.."
copies=${1:-10} rounds=${2:-5}
threads=${STANCE_THREADS:-$(nproc)}
cache=${STANCE_CACHE:-$HOME/.cache/stance}
venv=$cache/bench-python-torch240
if ! "$venv/bin/python" -c "import torch, transformers" 2>/dev/null; then
  python3 -m venv "$venv"
  # torch's own wheel and the NVIDIA ones are hash-checked; its small pure-Python
  # dependencies and transformers' are pinned by version.
  "$venv/bin/pip" install -q --no-deps --require-hashes -r scripts/requirements-torch-cuda.txt
  "$venv/bin/pip" install -q torch==2.4.0 transformers==4.44.2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bench/seed_sentences.sh "$copies" >"$work/sentences.txt"
n=$(wc -l <"$work/sentences.txt")
echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); flags: $(grep -o -w -E 'avx2|avx512f|avx512_vnni|avx_vnni|amx_int8' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "$n sentences, $threads threads, $(nproc) cores; torch $("$venv/bin/python" -c 'import torch; print(torch.__version__)'), transformers $("$venv/bin/python" -c 'import transformers; print(transformers.__version__)')"
export STANCE_THREADS=$threads
for round in $(seq 1 "$rounds"); do
  /usr/bin/time -f %M -o "$work/rss-py" "$venv/bin/python" bench/vs_python.py models/base/files "$work/sentences.txt" "$threads" >"$work/py"
  /usr/bin/time -f %M -o "$work/rss-rs" target/release/stance classify <"$work/sentences.txt" >/dev/null 2>"$work/rs"
  /usr/bin/time -f %M -o "$work/rss-f32" target/release/stance classify --precision f32 <"$work/sentences.txt" >/dev/null 2>"$work/f32"
  py=$(awk '{print $4}' "$work/py")
  rate() { sed -n 's/.*(\([0-9.]*\) sentences\/s.*/\1/p' "$1" | tail -1; }
  python3 - "$round" "$py" "$(rate "$work/rs")" "$(rate "$work/f32")" "$(tail -1 "$work/rss-py")" "$(tail -1 "$work/rss-rs")" "$(tail -1 "$work/rss-f32")" "$work/rates" <<'PY'
import sys
r, py, rs, f32 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
rss_py, rss_rs, rss_f32 = (int(x) / 1024 for x in sys.argv[5:8])
open(sys.argv[8], "a").write(f"{py} {rs} {f32}\n")
print(f"round {r}: python {py:.1f} sentences/s ({rss_py:.0f} MB peak); stance classify (default, int8) {rs:.1f} "
      f"({rss_rs:.0f} MB): ratio {rs / py:.2f}x; stance classify --precision f32 {f32:.1f} ({rss_f32:.0f} MB): ratio {f32 / py:.2f}x")
PY
done
python3 - "$work/rates" <<'PY'
import statistics, sys
rows = [tuple(map(float, line.split())) for line in open(sys.argv[1])]
span = lambda xs: f"min {min(xs):.1f} / median {statistics.median(xs):.1f} / max {max(xs):.1f}"
for k, name in ((1, "stance classify (int8)"), (2, "stance classify --precision f32")):
    side = [r[k] for r in rows]
    print(f"{name}: {span(side)} sentences/s, max/min {max(side) / min(side):.2f}; "
          f"median ratio to python {statistics.median(r[k] / r[0] for r in rows):.2f}x")
print(f"python: {span([r[0] for r in rows])} sentences/s over {len(rows)} rounds")
PY
