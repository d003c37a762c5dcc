#!/usr/bin/env bash
# The benchmarks' sentence list on stdout: every seed sentence (`stance split`, 134) repeated
# COPIES times, one per line (COPIES=10: 1,340 sentences).
# Usage: bench/seed_sentences.sh COPIES > sentences.txt   (after `make build`)
set -euo pipefail
cd "$(dirname "$0")/.."
copies=$1
S=${STANCE_BIN:-target/release/stance}
one=$(for f in seeds/*.txt; do $S split "$f"; done)
for _ in $(seq 1 "$copies"); do printf '%s\n' "$one"; done
