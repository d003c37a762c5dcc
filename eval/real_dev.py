#!/usr/bin/env python3
"""Scores stance (and sentence sentiment) models on a real tagged set with a per-row target
(default eval/gold/real-dev.csv): per target and overall, stance macro-F1, against F1 and the
share of gold `none` rows called favor or against; sentence-sentiment macro-F1 and the share of
gold `neutral` rows called positive or negative. 95% intervals resample documents (a cluster
bootstrap: 2,000 resamples, seed 13), since sentences of one document are not independent.

Usage (after `make build`):
  eval/real_dev.py [--data FILE] [--sentiment-model DIR] [--json OUT] MODEL [MODEL ...]
Each model labels the rows with `stance classify --input` (columns text, target)."""
import argparse, csv, json, os, random, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from calibrate_zero_shot import classify, macro_f1  # noqa: E402

STANCE = ["favor", "against", "none"]
SENTIMENT = ["positive", "neutral", "negative"]


def f1_of(gold, pred, label):
    tp = sum(g == label and p == label for g, p in zip(gold, pred))
    fp = sum(g != label and p == label for g, p in zip(gold, pred))
    fn = sum(g == label and p != label for g, p in zip(gold, pred))
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0


def called_polar(gold, pred, neutral):
    rows = [p for g, p in zip(gold, pred) if g == neutral]
    return sum(p != neutral for p in rows) / len(rows) if rows else float("nan")


MEASURES = {
    "stance_macro_f1": lambda g, p, s, q: macro_f1(g, p, STANCE)[0],
    "against_f1": lambda g, p, s, q: f1_of(g, p, "against"),
    "favor_f1": lambda g, p, s, q: f1_of(g, p, "favor"),
    "none_called_stance": lambda g, p, s, q: called_polar(g, p, "none"),
    "sentiment_macro_f1": lambda g, p, s, q: macro_f1(s, q, SENTIMENT)[0] if s else float("nan"),
    "neutral_called_polar": lambda g, p, s, q: called_polar(s, q, "neutral") if s else float("nan"),
}


def measure(rows, pred, idx):
    g = [rows[i]["stance"] for i in idx]
    p = [pred[i]["stance"] for i in idx]
    tagged = [i for i in idx if rows[i].get("sentiment")]
    s = [rows[i]["sentiment"] for i in tagged]
    q = [pred[i]["sentiment"] for i in tagged]
    return {name: f(g, p, s, q) for name, f in MEASURES.items()}


def with_interval(rows, pred, idx, rng):
    docs = {}
    for i in idx:
        docs.setdefault(rows[i]["doc_id"], []).append(i)
    keys = sorted(docs)
    point = measure(rows, pred, idx)
    draws = []
    for _ in range(2000):
        sample = [i for _ in keys for i in docs[keys[rng.randrange(len(keys))]]]
        draws.append(measure(rows, pred, sample))
    out = {}
    for name, value in point.items():
        xs = sorted(d[name] for d in draws if d[name] == d[name])
        lo, hi = (xs[int(0.025 * len(xs))], xs[min(len(xs) - 1, int(0.975 * len(xs)))]) if xs else (float("nan"),) * 2
        out[name] = [round(value, 3), round(lo, 3), round(hi, 3)]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "gold", "real-dev.csv"))
    ap.add_argument("--sentiment-model")
    ap.add_argument("--json")
    ap.add_argument("--measured", help="write the first model's per-target figures as measured.json (its model folder's file)")
    ap.add_argument("models", nargs="+")
    args = ap.parse_args()
    rows = list(csv.DictReader(open(args.data, encoding="utf-8")))
    text = "sentence" if "sentence" in rows[0] else "text"
    pairs = [[r[text], r["target"]] for r in rows]
    report = {"data": args.data, "rows": len(rows), "models": {}}
    for model in args.models:
        options = ["--model", model] + (["--sentiment-model", args.sentiment_model] if args.sentiment_model else [])
        pred = classify("target/release/stance", pairs, ["text", "target"], options)
        assert len(pred) == len(rows), "the model labelled another number of rows"
        rng = random.Random(13)
        targets = sorted({r["target"] for r in rows})
        result = {"all": with_interval(rows, pred, range(len(rows)), rng)}
        for t in targets:
            result[t] = with_interval(rows, pred, [i for i, r in enumerate(rows) if r["target"] == t], rng)
        report["models"][model] = result
        print(f"== {model} on {args.data} ({len(rows)} rows)")
        print(f"{'target':36} {'n':>4}  " + "  ".join(f"{m:>22}" for m in MEASURES))
        for t, r in result.items():
            n = len(rows) if t == "all" else sum(x["target"] == t for x in rows)
            cells = "  ".join(f"{v[0]:.3f} ({v[1]:.2f}-{v[2]:.2f})".rjust(22) for v in r.values())
            print(f"{t[:36]:36} {n:>4}  {cells}")
    if args.measured:
        first = report["models"][args.models[0]]

        def figures(name, idx):
            return {"target": name, "rows": len(idx), "none_rows": sum(rows[i]["stance"] == "none" for i in idx),
                    "none_called_stance": first[name]["none_called_stance"], "stance_macro_f1": first[name]["stance_macro_f1"]}

        measured = {
            "set": os.path.relpath(args.data, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")),
            "intervals": "95% percentile intervals over 2,000 resamples of documents (eval/real_dev.py, seed 13)",
            "overall": figures("all", range(len(rows))),
            "targets": [figures(t, [i for i, r in enumerate(rows) if r["target"] == t]) for t in sorted({r["target"] for r in rows})],
        }
        with open(args.measured, "w", encoding="utf-8") as f:
            json.dump(measured, f, indent=1)
            f.write("\n")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
