#!/usr/bin/env python3
"""Training rows for the stance experiments that add NewsMTSC to VAST (see the candidate tables
in models/stance-minilm-v3/README.md and models/stance-minilm-vast-v2/README.md): VAST train
rows (target from topic_str; all of them in file order, or a seeded sample of --vast N) plus
NewsMTSC train target mentions (pronouns and mentions of two characters or fewer left out),
their polarity read as stance toward the mention: negative = against, neutral = none,
positive = favor. --neutral-only keeps only the neutral mentions, as `none` rows; with all
three polarities "a news sentence naming someone" says nothing about the label by itself.
Usage: python3 scripts/vast_news_rows.py [--vast N] [--neutral-only] > rows.csv"""
import argparse
import csv
import json
import random
import sys

DATA = "../shared/datasets"
PRONOUNS = {"he", "she", "they", "it", "him", "her", "his", "them", "we", "i", "you", "us",
            "their", "its", "our", "hers", "theirs", "who", "this", "that"}
VAST_LABELS = {"0": "against", "1": "favor", "2": "none"}
POLARITY = {2.0: "against", 4.0: "none", 6.0: "favor"}

args = argparse.ArgumentParser()
args.add_argument("--vast", type=int, default=None, help="a seeded sample of this many VAST rows")
args.add_argument("--neutral-only", action="store_true", help="only neutral mentions, as none rows")
a = args.parse_args()

out = csv.writer(sys.stdout)
out.writerow(["text", "target", "label"])
vast = list(csv.DictReader(open(f"{DATA}/vast/vast_train.csv", newline="", encoding="utf-8")))
if a.vast is not None:
    random.Random(7).shuffle(vast)
    vast = vast[:a.vast]
for row in vast:
    out.writerow([row["post"], row["topic_str"], VAST_LABELS[row["label"]]])
with open(f"{DATA}/newsmtsc/train.jsonl", encoding="utf-8") as f:
    for line in f:
        row = json.loads(line)
        for t in row["targets"]:
            if a.neutral_only and t["polarity"] != 4.0:
                continue
            if t["mention"].lower() not in PRONOUNS and len(t["mention"]) > 2:
                out.writerow([row["sentence_normalized"], t["mention"], POLARITY[t["polarity"]]])
