#!/usr/bin/env bash
# How much of its quiet throughput `stance run` keeps while another CPU-bound process holds one
# core (issue 30): the seed corpus copied COPIES times (default 10, about 1,340 sentences),
# labelled ROUNDS times (default 5) quiet and ROUNDS times beside a busy loop pinned to CPU 0,
# alternating; prints each round's labelling rate (run.json's sentences_per_second), then
# min / median / max of both and the median of contended/quiet.
# With BASELINE (another stance binary, e.g. one built from an older commit) its runs alternate
# with target/release/stance's and get the same summary.
#   bench/contention.sh [COPIES [ROUNDS [BASELINE]]]   (after `make build`)
# Other stance-run options can go in STANCE_RUN_OPTIONS (e.g. "--threads 2").
set -euo pipefail
cd "$(dirname "$0")/.."
copies=${1:-10} rounds=${2:-5} baseline=${3:-}
work=$(mktemp -d)
hog=
trap '[ -n "$hog" ] && kill "$hog" 2>/dev/null; rm -rf "$work"' EXIT
echo "doc_id,path,outlet,group,title,date,url" >"$work/manifest.csv"
for i in $(seq 1 "$copies"); do
  tail -n +2 seeds/manifest.csv | while IFS= read -r line; do
    id="${line%%,*}" rest="${line#*,}"
    file="${rest%%,*}"
    cp "seeds/$file" "$work/$i-$file"
    echo "$i-$id,$i-$rest" >>"$work/manifest.csv"
  done
done
echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); $(nproc) CPUs usable; flags: $(grep -o -w -E 'avx2|avx512f|avx512_vnni|avx_vnni|amx_int8' /proc/cpuinfo | sort -u | tr '\n' ' ')"
binaries=(target/release/stance)
[ -n "$baseline" ] && binaries+=("$baseline")
rate() {
  rm -rf "$work/out"
  # shellcheck disable=SC2086
  "$1" -q run --manifest "$work/manifest.csv" --out "$work/out" --device cpu ${STANCE_RUN_OPTIONS:-} >/dev/null 2>&1
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sentences_per_second"])' "$work/out/run.json"
}
for round in $(seq 1 "$rounds"); do
  for b in "${!binaries[@]}"; do
    quiet=$(rate "${binaries[$b]}")
    taskset -c 0 sh -c 'while :; do :; done' &
    hog=$!
    sleep 0.5
    busy=$(rate "${binaries[$b]}")
    kill "$hog"
    wait "$hog" 2>/dev/null || true
    hog=
    echo "round $round ${binaries[$b]}: quiet $quiet, with a busy core $busy sentences/s" | tee -a "$work/log-$b"
  done
done
for b in "${!binaries[@]}"; do
  python3 - "${binaries[$b]}" "$work/log-$b" <<'PY'
import re, statistics, sys
rows = [tuple(map(float, re.findall(r"(?:quiet|core) ([0-9.]+)", line))) for line in open(sys.argv[2])]
quiet, busy = [q for q, _ in rows], [b for _, b in rows]
ratios = [b / q for q, b in rows]
span = lambda xs: f"min {min(xs):.1f} / median {statistics.median(xs):.1f} / max {max(xs):.1f}"
print(f"{sys.argv[1]}: quiet {span(quiet)}; with a busy core {span(busy)} sentences/s; "
      f"kept {statistics.median(ratios):.0%} (median of {len(rows)} rounds; min {min(ratios):.0%}); "
      f"quiet max/min {max(quiet) / min(quiet):.2f}")
PY
done
