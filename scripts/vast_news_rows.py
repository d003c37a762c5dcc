#!/usr/bin/env python3
"""Training rows for models/stance-minilm-v3's first stage (see its README.md): a seeded sample of
6,000 VAST train rows (target from topic_str) plus every NewsMTSC train target mention, its
polarity read as stance toward the mention: negative = against, neutral = none, positive = favor
(pronouns and mentions of two characters or fewer left out). Unlike vast_news_none_rows.py, which
added only the neutral mentions, all three polarities come in, so "a news sentence naming someone"
says nothing about the label by itself.
Usage: python3 scripts/vast_news_rows.py > rows.csv"""
import csv
import json
import random
import sys

DATA = "../shared/datasets"
PRONOUNS = {"he", "she", "they", "it", "him", "her", "his", "them", "we", "i", "you", "us",
            "their", "its", "our", "hers", "theirs", "who", "this", "that"}
VAST_LABELS = {"0": "against", "1": "favor", "2": "none"}
POLARITY = {2.0: "against", 4.0: "none", 6.0: "favor"}

out = csv.writer(sys.stdout)
out.writerow(["text", "target", "label"])
vast = list(csv.DictReader(open(f"{DATA}/vast/vast_train.csv", newline="", encoding="utf-8")))
random.Random(7).shuffle(vast)
for row in vast[:6000]:
    out.writerow([row["post"], row["topic_str"], VAST_LABELS[row["label"]]])
with open(f"{DATA}/newsmtsc/train.jsonl", encoding="utf-8") as f:
    for line in f:
        row = json.loads(line)
        for t in row["targets"]:
            if t["mention"].lower() not in PRONOUNS and len(t["mention"]) > 2:
                out.writerow([row["sentence_normalized"], t["mention"], POLARITY[t["polarity"]]])
