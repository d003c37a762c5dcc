#!/usr/bin/env python3
"""Paired bootstrap of the difference between two models on one tagged set: macro-F1 (A - B) and
the share of gold `none` rows called favor or against (A - B), each with a 95% percentile
interval over 2,000 resamples of the rows (seed 13), resampling the same rows for both models.
Two separate intervals that overlap say little; this says whether the difference itself is
distinguishable from zero.

Usage (after `make build`):
  eval/paired_bootstrap.py eval/written/japan-rearmament-test-6.csv models/stance-minilm-v7 models/stance-minilm-v6
The set needs columns text, target, stance; each model labels it with `stance classify`."""
import csv, random, subprocess, sys, tempfile

LABELS = ["favor", "against", "none"]


def labels(model, rows):
    with tempfile.NamedTemporaryFile("w", suffix=".csv", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["text", "target"])
        w.writerows([r["text"], r["target"]] for r in rows)
        f.flush()
        out = subprocess.run(["target/release/stance", "-q", "classify", "--input", f.name, "--model", model],
                             check=True, capture_output=True, text=True).stdout
    return [r["stance"] for r in csv.DictReader(out.splitlines())]


def macro_f1(idx, gold, pred):
    f1 = []
    for l in LABELS:
        tp = sum(gold[i] == l and pred[i] == l for i in idx)
        wrong = sum((gold[i] == l) != (pred[i] == l) for i in idx)
        f1.append(2 * tp / (2 * tp + wrong) if tp else 0.0)
    return sum(f1) / len(LABELS)


def false_stance(idx, gold, pred):
    none = [i for i in idx if gold[i] == "none"]
    return sum(pred[i] != "none" for i in none) / len(none)


def main():
    path, a, b = sys.argv[1:4]
    rows = list(csv.DictReader(open(path, encoding="utf-8")))
    gold = [r["stance"] for r in rows]
    pa, pb = labels(a, rows), labels(b, rows)
    assert len(pa) == len(pb) == len(gold), "a model labelled another number of rows"
    idx = list(range(len(gold)))
    rng = random.Random(13)
    diffs = {"macro-F1": [], "none called favor or against": []}
    for _ in range(2000):
        s = [rng.choice(idx) for _ in idx]
        diffs["macro-F1"].append(macro_f1(s, gold, pa) - macro_f1(s, gold, pb))
        diffs["none called favor or against"].append(false_stance(s, gold, pa) - false_stance(s, gold, pb))
    point = {"macro-F1": macro_f1(idx, gold, pa) - macro_f1(idx, gold, pb),
             "none called favor or against": false_stance(idx, gold, pa) - false_stance(idx, gold, pb)}
    print(f"{path}: {len(rows)} rows; A = {a}, B = {b}")
    for name, ds in diffs.items():
        ds.sort()
        print(f"  {name}: A - B = {point[name]:+.3f} (95% CI {ds[49]:+.3f} to {ds[1949]:+.3f})")


main()
