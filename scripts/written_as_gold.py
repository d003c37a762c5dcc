#!/usr/bin/env python3
"""A written test (text,target,stance[,doc]) as a gold-format file (doc_id,sentence,stance) on
stdout, so that `stance agree` can compare it with a re-tag: doc_id is the `doc` column where
there is one, else the file's stem.
Usage: scripts/written_as_gold.py eval/written/japan-rearmament-test-4.csv > /tmp/first.csv"""
import csv, pathlib, sys

path = pathlib.Path(sys.argv[1])
out = csv.writer(sys.stdout, lineterminator="\n")
out.writerow(["doc_id", "sentence", "stance"])
for row in csv.DictReader(open(path, encoding="utf-8")):
    out.writerow([row.get("doc") or path.stem, row["text"], row["stance"]])
