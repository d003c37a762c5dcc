#!/usr/bin/env python3
"""Paired bootstrap of the difference between two models on one tagged set: macro-F1 (A - B) and
the share of gold `none` rows called favor or against (A - B), each with a 95% percentile
interval over 2,000 resamples of the rows (seed 13), resampling the same rows for both models.
Two separate intervals that overlap say little; this says whether the difference itself is
distinguishable from zero.

Usage (after `make build`):
  eval/paired_bootstrap.py eval/written/japan-rearmament-test-6.csv models/stance-minilm-v7 models/stance-minilm-v6
The set needs columns text, target, stance; each model labels it with `stance classify`."""
import csv, random, sys

from calibrate_zero_shot import classify, macro_f1

LABELS = ["favor", "against", "none"]


def false_stance(gold, pred):
    none = [p for g, p in zip(gold, pred) if g == "none"]
    return sum(p != "none" for p in none) / len(none)


MEASURES = {"macro-F1": lambda g, p: macro_f1(g, p, LABELS)[0], "none called favor or against": false_stance}


def main():
    path, a, b = sys.argv[1:4]
    rows = list(csv.DictReader(open(path, encoding="utf-8")))
    gold = [r["stance"] for r in rows]
    pairs = [[r["text"], r["target"]] for r in rows]
    pa, pb = ([r["stance"] for r in classify("target/release/stance", pairs, ["text", "target"], ("--model", m))] for m in (a, b))
    assert len(pa) == len(pb) == len(gold), "a model labelled another number of rows"
    rng = random.Random(13)
    samples = [[rng.randrange(len(gold)) for _ in gold] for _ in range(2000)]
    print(f"{path}: {len(rows)} rows; A = {a}, B = {b}")
    for name, measure in MEASURES.items():
        diff = lambda idx: measure([gold[i] for i in idx], [pa[i] for i in idx]) - measure([gold[i] for i in idx], [pb[i] for i in idx])
        ds = sorted(diff(s) for s in samples)
        print(f"  {name}: A - B = {diff(range(len(gold))):+.3f} (95% CI {ds[49]:+.3f} to {ds[1949]:+.3f})")


main()
