#!/usr/bin/env bash
# `stance classify` side by side with the Python stack it replaces (bench/vs_python.py:
# transformers 4.44.2 on torch 2.4.0, the same MiniLM-L6 files and sentences, the same thread
# count), alternating runs, each ROUNDS times; prints both rates, their ratio and peak RSS.
# The sentences: every seed sentence (`stance split`) ×COPIES (default 10: 1,340 sentences).
# Sets up, once, a Python environment in $STANCE_CACHE/bench-python-torch240 (torch 2.4.0 from
# PyPI with its hash-pinned NVIDIA wheels, which the Python module needs even on a CPU: ~3 GB;
# not part of `make test`).
#   bench/vs_python.sh [COPIES] [ROUNDS]        (after `make build`)
set -euo pipefail
cd "$(dirname "$0")/.."
copies=${1:-10} rounds=${2:-2}
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
for f in seeds/*.txt; do target/release/stance split "$f"; done >"$work/one.txt"
for _ in $(seq 1 "$copies"); do cat "$work/one.txt"; done >"$work/sentences.txt"
n=$(wc -l <"$work/sentences.txt")
echo "$n sentences, $threads threads, $(nproc) cores; torch $("$venv/bin/python" -c 'import torch; print(torch.__version__)'), transformers $("$venv/bin/python" -c 'import transformers; print(transformers.__version__)')"
export STANCE_THREADS=$threads
for round in $(seq 1 "$rounds"); do
  /usr/bin/time -f %M -o "$work/rss-py" "$venv/bin/python" bench/vs_python.py models/base/files "$work/sentences.txt" "$threads" >"$work/py"
  /usr/bin/time -f %M -o "$work/rss-rs" target/release/stance classify <"$work/sentences.txt" >/dev/null 2>"$work/rs"
  py=$(awk '{print $4}' "$work/py")
  rs=$(sed -n 's/.*(\([0-9.]*\) sentences\/s.*/\1/p' "$work/rs" | tail -1)
  python3 - "$round" "$py" "$rs" "$(tail -1 "$work/rss-py")" "$(tail -1 "$work/rss-rs")" <<'PY'
import sys
r, py, rs, rss_py, rss_rs = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
print(f"round {r}: python {py:.1f} sentences/s ({rss_py / 1024:.0f} MB peak), stance classify {rs:.1f} sentences/s "
      f"({rss_rs / 1024:.0f} MB peak): ratio {rs / py:.2f}x")
PY
done
