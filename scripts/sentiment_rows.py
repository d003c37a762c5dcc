#!/usr/bin/env python3
"""Writes the training rows of a sentence-sentiment stage (issue 26): text,target,sentiment CSV,
target = the mention for NewsMTSC's per-mention rows and "overall tone" for a sentence's own
tone. Seeded (random.Random(26)); the datasets are read from ../shared/datasets and not copied.

    python3 scripts/sentiment_rows.py OUT.csv [--no-descriptive] [--no-real] [--real2]

Rows:
- NewsMTSC train (train.jsonl): a sample of 4,000 per-mention rows, and a sample of 3,000
  sentences whose mentions share one polarity as overall-tone rows (so the head toward mentions
  and the news register are kept);
- real tagged AllSides sentences (data/real_tagged.csv, blind taggers by the guide), twice:
  the registers the tool is used on; with --real2, the second draw (data/real_tagged_2.csv) too;
- unless --no-descriptive: real news sentences that experts marked entirely factual or
  objective, as neutral overall tone: BABE SG2 "Entirely factual" (split column not used:
  all of them; the real development set shares no sentence with BABE) and CheckThat 2025
  train OBJ sentences. These teach that plain description in news is neutral in tone;
- SST-2 train: 1,500 whole-sentence rows (no phrases: at least 8 words), positive/negative.
"""
import csv, json, os, random, sys

HERE = os.path.dirname(os.path.abspath(__file__))
D = os.path.join(HERE, "..", "..", "shared", "datasets")
TONE = "overall tone"
POLARITY = {2.0: "negative", 4.0: "neutral", 6.0: "positive"}


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        sys.exit(__doc__)
    rng = random.Random(26)
    rows = []
    news = [json.loads(l) for l in open(os.path.join(D, "newsmtsc", "train.jsonl"), encoding="utf-8")]
    mentions = [(n["sentence_normalized"], t["mention"], POLARITY[t["polarity"]]) for n in news for t in n["targets"]]
    rows += rng.sample(mentions, 4000)
    whole = [n for n in news if len({t["polarity"] for t in n["targets"]}) == 1]
    rows += [(n["sentence_normalized"], TONE, POLARITY[n["targets"][0]["polarity"]]) for n in rng.sample(whole, 3000)]
    if "--no-real" not in sys.argv:
        files = ["real_tagged.csv"] + (["real_tagged_2.csv"] if "--real2" in sys.argv else [])
        for name in files:
            tagged = csv.DictReader(open(os.path.join(HERE, "..", "data", name), encoding="utf-8"))
            rows += [(r["sentence"], TONE, r["sentiment"]) for r in tagged if r["sentiment"]] * 2
    if "--no-descriptive" not in sys.argv:
        babe = csv.DictReader(open(os.path.join(D, "babe-mbic", "babe_sg2.csv"), encoding="utf-8"))
        rows += [(r["text"].strip(), TONE, "neutral") for r in babe if r["label_opinion"] == "Entirely factual"]
        ct = csv.DictReader(open(os.path.join(D, "checkthat2025-subjectivity-en", "checkthat2025_subj_en.csv"), encoding="utf-8"))
        rows += [(r["text"].strip(), TONE, "neutral") for r in ct if r["split"] == "train" and r["label_orig"] == "OBJ"]
    sst = [l.rstrip("\n").split("\t") for l in open(os.path.join(D, "sst2", "train.tsv"), encoding="utf-8")][1:]
    sst = [(s.strip(), TONE, "positive" if y == "1" else "negative") for s, y in sst if len(s.split()) >= 8]
    rows += rng.sample(sst, 1500)
    rng.shuffle(rows)
    with open(args[0], "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["text", "target", "sentiment"])
        w.writerows(rows)
    counts = {}
    for _, _, label in rows:
        counts[label] = counts.get(label, 0) + 1
    print(f"{args[0]}: {len(rows)} rows {counts}")


if __name__ == "__main__":
    main()
