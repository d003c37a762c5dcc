#!/usr/bin/env python3
"""Chooses the zero-shot labeler's margins (stance.toml [labeler] none_margin, neutral_margin)
on training data, never on the seed gold.

Samples 1,000 rows of VAST train (stance; per-row target) and 1,000 single-polarity sentences
of NewsMTSC train (sentiment, the target's polarity standing in for the sentence's tone), labels
them once with `stance classify`, and prints macro-F1 for a grid of margins. The ratio
p_favor/p_against (p_positive/p_negative) does not depend on the margin, so one run serves the
whole grid: d = temperature * ln(p_favor / p_against), and a margin m labels favor when
d > 2m, against when d < -2m, none otherwise.

Usage: python3 eval/calibrate_zero_shot.py [--stance BIN] [--datasets ../shared/datasets]
Standard library only.
"""
import argparse, csv, json, math, os, random, subprocess, sys, tempfile

GRID = [0, 0.0025, 0.005, 0.0075, 0.01, 0.0125, 0.015, 0.02, 0.03]


def macro_f1(gold, pred, labels):
    scores = []
    for k in labels:
        tp = sum(1 for g, p in zip(gold, pred) if g == k and p == k)
        pp, gg = pred.count(k), gold.count(k)
        precision, recall = (tp / pp if pp else 0.0), (tp / gg if gg else 0.0)
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores), scores


def classify(binary, rows, header, options=("--labeler", "zero-shot")):
    """Labels `rows` (lists under `header`) with `stance classify OPTIONS`; its CSV rows."""
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
        path = f.name
    try:
        out = subprocess.run([binary, "-q", "classify", *options, "--input", path], check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(path)
    return list(csv.DictReader(out.splitlines()))


def sweep(name, gold, out, pos, neg, labels, temperature):
    print(f"\n{name}: n = {len(gold)}")
    print("margin  macro-F1  per-class F1 (" + ", ".join(labels) + ")  share " + labels[2])
    d = [temperature * math.log(max(float(o[pos]), 1e-9) / max(float(o[neg]), 1e-9)) for o in out]
    best = None
    for m in GRID:
        pred = [labels[0] if x > 2 * m else labels[1] if x < -2 * m else labels[2] for x in d]
        macro, per = macro_f1(gold, pred, labels)
        print(f"{m:<7} {macro:.3f}     {' '.join(f'{v:.3f}' for v in per)}          {pred.count(labels[2]) / len(pred):.2f}")
        if best is None or macro > best[1] + 1e-12:
            best = (m, macro)
    print(f"best margin: {best[0]} (macro-F1 {best[1]:.3f})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stance", default="target/release/stance")
    ap.add_argument("--datasets", default="../shared/datasets")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--temperature", type=float, default=0.05)
    a = ap.parse_args()
    rng = random.Random(a.seed)

    vast = list(csv.DictReader(open(os.path.join(a.datasets, "vast/vast_train.csv"), newline="")))
    rng.shuffle(vast)
    vast = vast[: a.n]
    names = {"0": "against", "1": "favor", "2": "none"}
    out = classify(a.stance, [[" ".join(r["post"].split()), r["topic_str"]] for r in vast], ["text", "target"])
    sweep("stance, VAST train sample", [names[r["label"]] for r in vast], out, "p_favor", "p_against", ["favor", "against", "none"], a.temperature)

    mtsc = [json.loads(l) for l in open(os.path.join(a.datasets, "newsmtsc/train.jsonl"))]
    mtsc = [r for r in mtsc if len({t["polarity"] for t in r["targets"]}) == 1]
    rng.shuffle(mtsc)
    mtsc = mtsc[: a.n]
    polarity = {2.0: "negative", 4.0: "neutral", 6.0: "positive"}
    out = classify(a.stance, [[r["sentence_normalized"]] for r in mtsc], ["text"])
    gold = [polarity[r["targets"][0]["polarity"]] for r in mtsc]
    sweep("sentiment, NewsMTSC train sample", gold, out, "p_positive", "p_negative", ["positive", "negative", "neutral"], a.temperature)


if __name__ == "__main__":
    sys.exit(main())
