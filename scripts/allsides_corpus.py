#!/usr/bin/env python3
"""Writes the AllSides-Japan articles as a stance corpus: OUT/manifest.csv and OUT/docs/ID.txt.

The dataset (../shared/datasets/allsides-japan/articles.jsonl, Apache-2.0) is read-only and not
copied into the repository; this rebuilds the corpus from it. group = the outlet's AllSides
rating (left / center / right), outlet = the source's name. Each document is the title, a blank
line, then the article text as the dataset gives it.

    python3 scripts/allsides_corpus.py [--jsonl PATH] OUT
"""
import argparse
import csv
import json
import os
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--jsonl", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "datasets", "allsides-japan", "articles.jsonl"))
    args = ap.parse_args()
    os.makedirs(os.path.join(args.out, "docs"), exist_ok=True)
    rows = []
    with open(args.jsonl, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                sys.exit(f"error: {args.jsonl}:{n}: {e}")
    with open(os.path.join(args.out, "manifest.csv"), "w", newline="", encoding="utf-8") as m:
        w = csv.writer(m, lineterminator="\n")
        w.writerow(["doc_id", "path", "outlet", "group", "title", "date", "url"])
        for r in rows:
            path = f"docs/{r['ID']}.txt"
            with open(os.path.join(args.out, path), "w", encoding="utf-8") as d:
                d.write(r["title"].strip() + "\n\n" + r["content_original"].strip() + "\n")
            w.writerow([r["ID"], path, r["source"], r["bias_text"], r["title"].strip(), r["date"], r["url"]])
    print(f"{len(rows)} documents written to {args.out}")


if __name__ == "__main__":
    main()
