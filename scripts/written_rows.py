#!/usr/bin/env python3
"""RETIRED: `stance data compose data/recipes/*.toml` composes these rows now (seeded Rust RNG).
Kept as the record of how the rows of the shipped v3 and v4 weights were made (their exact bytes).

Training and development rows for adapting a VAST-trained stance model with the hand-written
rows of data/written_stance.csv (see data/README.md):
  OUT/train.csv  the written rows of set "train" (repeated --repeat times), plus a seeded sample of
                 --vast VAST train rows (target from topic_str) so that VAST is not forgotten
  OUT/dev.csv    the written rows of set "dev" (targets that no training row has)
--leave-out TARGET drops one target's rows from training (e.g. the config's own target, to measure
what the other targets alone teach).
--extra FILE adds more hand-written rows of the same format (their "train" rows, --repeat times).
--gold FILE --gold-fold K/N adds the tagged gold rows (stance column) of the documents in fold K of
N (by SHA-256 of doc_id) to training, once each, and writes the other folds' rows to
OUT/gold-heldout.csv: figures on those rows come from documents no training row came from.
Usage: python3 scripts/written_rows.py OUT [--vast 2000] [--repeat 2] [--seed 7] [--leave-out T]
       [--extra data/written_news.csv] [--gold eval/gold/allsides-dev.csv --gold-fold 0/2]"""
import argparse
import csv
import hashlib
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
args.add_argument("--extra", action="append", default=[])
args.add_argument("--gold", default=None)
args.add_argument("--gold-fold", default="0/2")
args.add_argument("--gold-target", default="Japan's rearmament")
a = args.parse_args()

written = list(csv.DictReader(open("data/written_stance.csv", newline="", encoding="utf-8")))
vast = list(csv.DictReader(open(f"{DATA}/vast/vast_train.csv", newline="", encoding="utf-8")))
random.Random(a.seed).shuffle(vast)
train = [(r["text"], r["target"], r["stance"]) for r in written
         if r["set"] == "train" and r["target"] != a.leave_out] * a.repeat
train += [(r["post"], r["topic_str"], VAST_LABELS[r["label"]]) for r in vast[:a.vast]]
for path in a.extra:
    extra = list(csv.DictReader(open(path, newline="", encoding="utf-8")))
    train += [(r["text"], r["target"], r["stance"]) for r in extra
              if r["set"] == "train" and r["target"] != a.leave_out] * a.repeat
heldout = []
if a.gold:
    k, n = (int(x) for x in a.gold_fold.split("/"))
    if not 0 <= k < n or n < 2:
        raise SystemExit(f"error: --gold-fold {a.gold_fold}: expected K/N with 0 <= K < N and N >= 2")
    gold = list(csv.DictReader(open(a.gold, newline="", encoding="utf-8")))
    fold = lambda doc: int.from_bytes(hashlib.sha256(doc.encode()).digest()[:8], "big") % n
    train += [(r["sentence"], a.gold_target, r["stance"]) for r in gold if fold(r["doc_id"]) == k]
    heldout = [r for r in gold if fold(r["doc_id"]) != k]
random.Random(a.seed).shuffle(train)
dev = [(r["text"], r["target"], r["stance"]) for r in written if r["set"] == "dev"]

os.makedirs(a.out, exist_ok=True)
for name, rows in (("train.csv", train), ("dev.csv", dev)):
    with open(os.path.join(a.out, name), "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["text", "target", "stance"])
        out.writerows(rows)
    print(f"{name}: {len(rows)} rows")
if a.gold:
    with open(os.path.join(a.out, "gold-heldout.csv"), "w", newline="", encoding="utf-8") as f:
        out = csv.DictWriter(f, fieldnames=list(heldout[0].keys()), lineterminator="\n")
        out.writeheader()
        out.writerows(heldout)
    print(f"gold-heldout.csv: {len(heldout)} rows of {len({r['doc_id'] for r in heldout})} documents")
