#!/usr/bin/env bash
# Tests the Slurm recipe (deploy/slurm/) for real: installs Debian's slurm-wlm and munge when
# missing, starts a one-node cluster on this machine, labels a subset of the AllSides corpus as
# an array job of 1 and then 2 shard tasks (each followed by its dependent merge job), and
# checks that each merged result equals a single `stance run` of the same corpus, byte for byte.
# Prints the wall time of each. Needs root (packages, daemons); not part of `make test`.
#   scripts/slurm_test.sh [DOCS]        # DOCS: how many AllSides articles (default 40)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
docs=${1:-40}
work=${SLURM_TEST_DIR:-/tmp/stance-slurm-test}
S=$repo/target/release/stance
[ "$(id -u)" = 0 ] || { echo "error: needs root (installs packages, starts daemons)" >&2; exit 2; }
cargo build --release --locked -q
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  apt-get install -y -q slurm-wlm munge >/dev/null || { apt-get update -q && apt-get install -y -q slurm-wlm munge >/dev/null; }
fi

# munge: the key and the daemon.
if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge
chmod 0400 /etc/munge/munge.key
pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged

# A one-node cluster: this machine, all its cores, most of its memory.
host=$(hostname -s)
cpus=$(nproc)
mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
# Never take over a real installation: only a configuration this script wrote is replaced.
if [ -s /etc/slurm/slurm.conf ] && ! grep -qx 'ClusterName=stance-test' /etc/slurm/slurm.conf; then
  echo "error: /etc/slurm/slurm.conf belongs to another cluster; run this test on a machine without Slurm" >&2
  exit 2
fi
cat >/etc/slurm/slurm.conf <<CONF
ClusterName=stance-test
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
pkill -x slurmctld 2>/dev/null || true
pkill -x slurmd 2>/dev/null || true
sleep 1
slurmctld -i
slurmd
for _ in $(seq 60); do
  sinfo -h -o %t 2>/dev/null | grep -qx idle && break
  sleep 1
done
sinfo -h -o %t | grep -qx idle || { echo "error: the Slurm node did not come up (/var/log/slurm/)" >&2; exit 1; }

# The corpus: the first DOCS AllSides articles (the seed corpus where the datasets are absent).
rm -rf "$work"
mkdir -p "$work/corpus"
if [ -f ../shared/datasets/allsides-japan/articles.jsonl ]; then
  python3 scripts/allsides_corpus.py "$work/corpus" >/dev/null
  head -n $((docs + 1)) "$work/corpus/manifest.csv" >"$work/corpus/subset.csv"
else
  echo "../shared/datasets/allsides-japan is absent: the seed corpus instead"
  cp seeds/*.txt "$work/corpus/"
  cp seeds/manifest.csv "$work/corpus/subset.csv"
  docs=$(($(wc -l <seeds/manifest.csv) - 1))
fi

# One thread per task, so one task and N tasks compare as 1 core and N cores. The models and
# configuration are named by absolute paths: the jobs run in another folder.
export STANCE_THREADS=1 STANCE=$S
models=(--config "$repo/stance.toml" --model-dir "$(readlink -f models/base/files)"
  --model "$(readlink -f "${STANCE_MODEL:-models/stance-minilm-v7}")"
  --sentiment-model "$(readlink -f "${STANCE_SENTIMENT_MODEL:-models/sentiment-minilm-real2}")")
start=$(date +%s%N)
$S --quiet run --manifest "$work/corpus/subset.csv" --out "$work/single" "${models[@]}"
single_ms=$((($(date +%s%N) - start) / 1000000))

wait_for() { # job id; gives up after 30 minutes
  for _ in $(seq 1800); do
    state=$(scontrol show job "$1" -o | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
    case $state in
      COMPLETED) return 0 ;;
      FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE | PREEMPTED)
        echo "error: job $1 $state (see $work/*.out)" >&2
        return 1
        ;;
    esac
    sleep 1
  done
  echo "error: job $1 still $state after 30 minutes" >&2
  return 1
}

status=0
report=""
for tasks in 1 2; do
  cd "$work"
  start=$(date +%s%N)
  ids=$(SBATCH_ARGS="--cpus-per-task=1 --chdir=$work" "$repo/deploy/slurm/submit.sh" "$work/corpus/subset.csv" "$tasks" "$work/merged-$tasks" "${models[@]}")
  merge_id=${ids##* }
  wait_for "$merge_id"
  wall_ms=$((($(date +%s%N) - start) / 1000000))
  cd "$repo"
  same=yes
  for f in sentences.csv profiles.csv comparison.csv; do
    cmp -s "$work/single/$f" "$work/merged-$tasks/$f" || { same=no; echo "error: $f of the $tasks-task merge differs from the single run" >&2; }
  done
  diff -rq "$work/single/cleaned" "$work/merged-$tasks/cleaned" >/dev/null || { same=no; echo "error: cleaned/ differs" >&2; }
  [ $same = yes ] || status=1
  report+="$tasks array task(s): $((wall_ms / 1000)).$((wall_ms % 1000 / 100)) s wall (submit to merged), merged == single run: $same"$'\n'
done
sentences=$(($(wc -l <"$work/single/sentences.csv") - 1))
printf 'Slurm test, %s documents (%s sentences), 1 thread per task, %s cores on this node\n' "$docs" "$sentences" "$cpus"
echo "single stance run: $((single_ms / 1000)).$((single_ms % 1000 / 100)) s"
printf '%s' "$report"
exit $status
