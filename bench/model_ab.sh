#!/usr/bin/env bash
# Two stance models side by side in `stance classify` (default settings otherwise): every seed
# sentence (from `stance split`, 1,340 with COPIES=10), labelled by A and B in turn, ROUNDS times;
# prints each run's labelling rate (model load timed apart). For a new default model's "speed no
# worse than before" figure.
# Usage: bench/model_ab.sh MODEL_A MODEL_B [COPIES [ROUNDS]]   (after `make build`)
set -euo pipefail
cd "$(dirname "$0")/.."
a=$1 b=$2 copies=${3:-10} rounds=${4:-2}
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
bench/seed_sentences.sh "$copies" > "$work/sentences.txt"
echo "$(wc -l < "$work/sentences.txt") sentences"
for round in $(seq 1 "$rounds"); do
  for model in "$a" "$b"; do
    printf 'round %s %-32s ' "$round" "$model"
    target/release/stance classify --model "$model" < "$work/sentences.txt" 2>&1 >/dev/null | tail -1
  done
done
