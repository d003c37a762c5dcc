#!/usr/bin/env bash
# `stance run` throughput of the sentiment designs, side by side on the same corpus (the seeds
# copied COPIES times): sentiment from the zero-shot labeler (before the sentiment model), from
# the separate sentiment model (the default: a second pass, plus a short pass over sentences
# that mention the entity), and, given SHARED (a stance model with its own sentiment head,
# `stance train --init … --task sentiment --freeze-encoder`), from the stance pass itself.
# Usage: bench/sentiment_designs.sh [COPIES [SHARED]]   (after `make build`)
set -euo pipefail
cd "$(dirname "$0")/.."
copies="${1:-20}"
echo "== sentiment: zero-shot (second pass over the base encoder)"
bench/run_throughput.sh "$copies" --sentiment zero-shot
echo "== sentiment: trained sentiment model (default)"
bench/run_throughput.sh "$copies"
if [ -n "${2:-}" ]; then
    echo "== sentiment: the stance model's own head ($2)"
    bench/run_throughput.sh "$copies" --model "$2"
fi
