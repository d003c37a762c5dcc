#!/usr/bin/env python3
"""How close the hand-written training rows (data/written_stance.csv) come to the gold sentences
(eval/gold/seeds.csv), which must never be trained on: for every written row, the gold sentence
sharing the most words (Jaccard over lower-cased word sets) and the longest run of words the two
share. Prints the summary and the closest pairs.
Usage: python3 scripts/written_vs_gold.py [--top N]"""
import csv
import re
import sys

top = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 10


def words(text):
    return re.findall(r"[a-z0-9]+", text.lower().replace("’", "'"))


def longest_shared_run(a, b):
    best, prev = 0, [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b):
            if x == y:
                cur[j + 1] = prev[j] + 1
                best = max(best, cur[j + 1])
        prev = cur
    return best


gold = [r["sentence"] for r in csv.DictReader(open("eval/gold/seeds.csv", newline="", encoding="utf-8"))]
written = [r["text"] for r in csv.DictReader(open("data/written_stance.csv", newline="", encoding="utf-8"))]
gold_words = [(g, words(g)) for g in gold]
pairs = []
for w in written:
    ww = words(w)
    ws = set(ww)
    jac, g, gw = max((len(ws & set(gw)) / len(ws | set(gw)), g, gw) for g, gw in gold_words)
    pairs.append((jac, max(longest_shared_run(ww, gw) for _, gw in gold_words), w, g))
jacs = sorted(p[0] for p in pairs)
runs = sorted(p[1] for p in pairs)
print(f"{len(written)} written rows against {len(gold)} gold sentences")
print(f"closest gold sentence, word Jaccard: median {jacs[len(jacs) // 2]:.3f}, max {jacs[-1]:.3f}; "
      f"rows above 0.5: {sum(j > 0.5 for j in jacs)}")
print(f"longest shared run of words: median {runs[len(runs) // 2]}, max {runs[-1]}; "
      f"rows sharing 6 or more words in a row: {sum(r >= 6 for r in runs)}")
for jac, run, w, g in sorted(pairs, reverse=True)[:top]:
    print(f"\n{jac:.3f} run {run}\n  written: {w}\n  gold:    {g}")
