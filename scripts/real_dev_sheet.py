#!/usr/bin/env python3
"""Draws the sentences of the real multi-target development set (eval/gold/real-dev.csv) and of
the real training tags (data/real_tagged.csv) from stance runs over the AllSides corpora.

    python3 scripts/allsides_corpus.py --jsonl ../shared/datasets/allsides-topics/articles.jsonl /tmp/topics
    python3 scripts/allsides_corpus.py /tmp/japan
    stance run --manifest /tmp/topics/manifest.csv --out /tmp/topics-run
    stance run --manifest /tmp/japan/manifest.csv --out /tmp/japan-run
    python3 scripts/real_dev_sheet.py /tmp/topics-run /tmp/japan-run OUT

writes OUT/dev.csv, OUT/dev2.csv, OUT/train.csv and OUT/train2.csv: untagged sheets (no model labels) with the columns
row_id,doc_id,sentence_id,target,title,outlet,group,sentence. Only the run's sentence
segmentation is used, so the tagged sentences are the pipeline's own units.

Which sentences (seeded, `random.Random(2026)`):
- eight AllSides subjects, each with one target (TARGETS below). Per subject, documents are
  ordered by a seeded shuffle with opinion pieces first (URL or title says opinion) and taken
  in turn from left, center and right. The dev set takes 8 documents a subject (3 left, 2
  center, 3 right), a run of 13 consecutive sentences from a seeded start in each; the training
  sheet takes 8 other documents, of the four TRAIN_SUBJECTS only, the same way. Dev and
  training documents never overlap, and the four other subjects have no training rows at all
  (targets the model never trained on).
- Japan's rearmament: AllSides-Japan documents that are in neither eval/gold/allsides-dev.csv
  nor its re-tags (so no model of v4-v7 trained on them), every sentence that names Japan or
  its forces, 6 at most a document, until 150 (dev) or 120 (train) sentences.
"""
import csv
import json
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATASETS = os.path.join(HERE, "..", "..", "shared", "datasets")

TARGETS = {
    "gun_control_and_gun_rights": "stricter gun control",
    "immigration": "stricter immigration enforcement",
    "abortion": "legal access to abortion",
    "environment": "government action on climate change",
    "healthcare": "the Affordable Care Act",
    "trade": "tariffs on imports",
    "taxes": "tax cuts",
    "lgbt_rights": "LGBT rights",
}
TRAIN_SUBJECTS = ["gun_control_and_gun_rights", "immigration", "abortion", "environment"]
JAPAN = "Japan's rearmament"
JAPAN_FOCUS = re.compile(r"japan|tokyo|\babe\b|kishida|okinawa|self-defen[cs]e|article 9|pacifis", re.I)
WINDOW = 13
DOCS_PER_SUBJECT = {"left": 3, "center": 2, "right": 3}


def read_run(folder):
    by_doc = {}
    with open(os.path.join(folder, "sentences.csv"), encoding="utf-8") as f:
        for r in csv.DictReader(f):
            by_doc.setdefault(r["doc_id"], []).append(r)
    return by_doc


def read_articles(name):
    with open(os.path.join(DATASETS, name, "articles.jsonl"), encoding="utf-8") as f:
        return {a["ID"]: a for a in map(json.loads, f)}


def is_opinion(a):
    return "opinion" in a["url"].lower() or a["title"].lower().startswith("opinion")


def pick_documents(rng, docs, articles, taken, per_group=DOCS_PER_SUBJECT):
    """Documents of one subject: opinion first, seeded order, by rating in turn."""
    order = sorted(docs)
    rng.shuffle(order)
    order.sort(key=lambda d: not is_opinion(articles[d]))
    chosen = []
    for group, n in per_group.items():
        pool = [d for d in order if articles[d]["bias_text"] == group and d not in taken]
        chosen += pool[:n]
    taken.update(chosen)
    return chosen


def window(rng, sentences):
    start = rng.randrange(0, max(1, len(sentences) - WINDOW + 1))
    return sentences[start : start + WINDOW]


def row(r, target, title):
    return {"doc_id": r["doc_id"], "sentence_id": r["sentence_id"], "target": target, "title": title,
            "outlet": r["outlet"], "group": r["group"], "sentence": r["text"]}


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    topics_run, japan_run, out = sys.argv[1:]
    rng = random.Random(2026)
    topics, japan = read_run(topics_run), read_run(japan_run)
    t_articles, j_articles = read_articles("allsides-topics"), read_articles("allsides-japan")
    sheets = {"dev": [], "train": [], "dev2": []}
    taken = set()
    for subject, target in TARGETS.items():
        docs = [d for d in topics if t_articles[d]["topic"] == subject and len(topics[d]) >= 8]
        for sheet in ("dev", "train"):
            if sheet == "train" and subject not in TRAIN_SUBJECTS:
                continue
            for d in pick_documents(rng, docs, t_articles, taken):
                sheets[sheet] += [row(r, target, t_articles[d]["title"].strip()) for r in window(rng, topics[d])]
    used = set()
    for name in ("allsides-dev.csv", "allsides-retag.csv", "retag-d.csv"):
        with open(os.path.join(HERE, "..", "eval", "gold", name), encoding="utf-8") as f:
            used |= {r["doc_id"] for r in csv.DictReader(f)}
    docs = sorted(d for d in japan if d not in used)
    rng.shuffle(docs)
    for sheet, limit in (("dev", 150), ("train", 120)):
        picked = []
        while docs and len(picked) < limit:
            d = docs.pop()
            hits = [r for r in japan[d] if JAPAN_FOCUS.search(r["text"])][:6]
            picked += [row(r, JAPAN, j_articles[d]["title"].strip()) for r in hits]
        sheets[sheet] += picked[:limit]
    # A second dev draw (the first had 107 favor / 114 against rows, under the 120 each the set
    # needs): one more left and one more right document a subject, after everything above.
    for subject, target in TARGETS.items():
        docs = [d for d in topics if t_articles[d]["topic"] == subject and len(topics[d]) >= 8]
        for d in pick_documents(rng, docs, t_articles, taken, {"left": 1, "right": 1}):
            sheets["dev2"] += [row(r, target, t_articles[d]["title"].strip()) for r in window(rng, topics[d])]
    # A second training draw (data/real_tagged.csv's second part), after everything above, so
    # the earlier draws are unchanged: ten more documents of each training subject.
    sheets["train2"] = []
    for subject in TRAIN_SUBJECTS:
        target = TARGETS[subject]
        docs = [d for d in topics if t_articles[d]["topic"] == subject and len(topics[d]) >= 8]
        for d in pick_documents(rng, docs, t_articles, taken, {"left": 4, "center": 2, "right": 4}):
            sheets["train2"] += [row(r, target, t_articles[d]["title"].strip()) for r in window(rng, topics[d])]
    os.makedirs(out, exist_ok=True)
    for sheet, rows in sheets.items():
        with open(os.path.join(out, f"{sheet}.csv"), "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, ["row_id", "doc_id", "sentence_id", "target", "title", "outlet", "group", "sentence"], lineterminator="\n")
            w.writeheader()
            for i, r in enumerate(rows, 1):
                w.writerow({"row_id": f"{sheet}-{i:04d}", **r})
        print(f"{out}/{sheet}.csv: {len(rows)} rows")


if __name__ == "__main__":
    main()
