#!/usr/bin/env python3
"""Training rows for a stance experiment (not shipped; see models/stance-minilm-vast-v2/README.md):
all of VAST train with `topic_str` as target, plus every NewsMTSC train target with neutral
polarity (pronouns and mentions of two characters or fewer left out) as a `none` row.
Usage: python3 scripts/vast_news_none_rows.py > rows.csv"""
import csv
import json
import sys

DATA = "../shared/datasets"
PRONOUNS = {"he", "she", "they", "it", "him", "her", "his", "them", "we", "i", "you", "us",
            "their", "its", "our", "hers", "theirs", "who", "this", "that"}
LABELS = {"0": "against", "1": "favor", "2": "none"}

out = csv.writer(sys.stdout)
out.writerow(["text", "target", "label"])
with open(f"{DATA}/vast/vast_train.csv", newline="") as f:
    for row in csv.DictReader(f):
        out.writerow([row["post"], row["topic_str"], LABELS[row["label"]]])
with open(f"{DATA}/newsmtsc/train.jsonl") as f:
    for line in f:
        row = json.loads(line)
        for t in row["targets"]:
            if t["polarity"] == 4.0 and t["mention"].lower() not in PRONOUNS and len(t["mention"]) > 2:
                out.writerow([row["sentence_normalized"], t["mention"], "none"])
