#!/usr/bin/env python3
"""Training and development rows for adapting a VAST-trained stance model with the hand-written
rows of data/written_stance.csv (see data/README.md):
  OUT/train.csv  the written rows of set "train" (repeated --repeat times), plus a seeded sample of
                 --vast VAST train rows (target from topic_str) so that VAST is not forgotten
  OUT/dev.csv    the written rows of set "dev" (targets that no training row has)
--leave-out TARGET drops one target's rows from training (e.g. the config's own target, to measure
what the other targets alone teach).
Usage: python3 scripts/written_rows.py OUT [--vast 2000] [--repeat 2] [--seed 7] [--leave-out T]"""
import argparse
import csv
import os
import random

DATA = "../shared/datasets"
VAST_LABELS = {"0": "against", "1": "favor", "2": "none"}

args = argparse.ArgumentParser()
args.add_argument("out")
args.add_argument("--vast", type=int, default=2000)
args.add_argument("--repeat", type=int, default=2)
args.add_argument("--seed", type=int, default=7)
args.add_argument("--leave-out", default=None)
a = args.parse_args()

written = list(csv.DictReader(open("data/written_stance.csv", newline="", encoding="utf-8")))
vast = list(csv.DictReader(open(f"{DATA}/vast/vast_train.csv", newline="", encoding="utf-8")))
random.Random(a.seed).shuffle(vast)
train = [(r["text"], r["target"], r["stance"]) for r in written
         if r["set"] == "train" and r["target"] != a.leave_out] * a.repeat
train += [(r["post"], r["topic_str"], VAST_LABELS[r["label"]]) for r in vast[:a.vast]]
random.Random(a.seed).shuffle(train)
dev = [(r["text"], r["target"], r["stance"]) for r in written if r["set"] == "dev"]

os.makedirs(a.out, exist_ok=True)
for name, rows in (("train.csv", train), ("dev.csv", dev)):
    with open(os.path.join(a.out, name), "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["text", "target", "stance"])
        out.writerows(rows)
    print(f"{name}: {len(rows)} rows")
