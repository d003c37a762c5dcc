#!/usr/bin/env bash
# Labels a corpus on a Slurm cluster: an array of N shard tasks, then a merge that waits for
# all of them (afterok). Prints the two job ids.
#   deploy/slurm/submit.sh CORPUS N OUT_DIR [extra `stance run` flags...]
# CORPUS: a manifest CSV, or a JSONL corpus (give its --field mappings as extra flags).
# The shards go to OUT_DIR.parts/0 … N-1; the reports to OUT_DIR. Set STANCE to the binary's
# path when `stance` is not on the compute nodes' PATH, and SBATCH_ARGS for site options
# (partition, account, time).
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
corpus=$1 count=$2 out=${3%/}
shift 3
parts="$out.parts"
mkdir -p "$parts"
export STANCE=${STANCE:-stance}
array=$(sbatch --parsable ${SBATCH_ARGS:-} --export=ALL --array=0-$((count - 1)) "$dir/stance-array.sbatch" "$corpus" "$count" "$parts" "$@")
array=${array%%;*} # "id;cluster" on multi-cluster sites
# If a shard fails, the merge is cancelled rather than left pending forever; re-submit the
# failed task (it resumes) and then the merge by hand.
merge=$(sbatch --parsable ${SBATCH_ARGS:-} --export=ALL --dependency=afterok:"$array" --kill-on-invalid-dep=yes \
  "$dir/stance-merge.sbatch" "$parts" "$count" "$out")
merge=${merge%%;*}
echo "array job $array ($count shards), merge job $merge"
