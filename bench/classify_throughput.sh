#!/usr/bin/env bash
# Sentences per second of `stance classify`: every seed sentence (from `stance split`) repeated
# COPIES times (default 20, about 2,700 sentences), labelled by each labeler in turn; model
# loading is timed apart from labelling.
# Usage: bench/classify_throughput.sh [COPIES]   (after `make build`)
set -euo pipefail
cd "$(dirname "$0")/.."
copies="${1:-20}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
bench/seed_sentences.sh "$copies" > "$work/sentences.txt"
echo "$(wc -l < "$work/sentences.txt") sentences"
for options in "--labeler zero-shot" "--labeler trained --sentiment zero-shot" "--labeler trained"; do
    printf '%-40s ' "$options"
    # shellcheck disable=SC2086
    target/release/stance classify $options --device "${DEVICE:-auto}" < "$work/sentences.txt" 2>&1 >/dev/null | tail -1
done
