"""Peer for `bench-data`'s parse + validate: Python's stdlib csv + json on the same train.csv.

Does the core of what KaggleCsv.readTrain does (CSV records, three JSON cells per row, one-hot labels, unique ids),
without the error reporting.  Usage: python3 docs/bench/parse_peer.py path/to/train.csv
"""
import csv
import json
import sys
import time

csv.field_size_limit(sys.maxsize)


def parse(path):
    ids = set()
    rows = 0
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        col = {name: i for i, name in enumerate(header)}
        for rec in reader:
            turns = [json.loads(rec[col[c]]) for c in ("prompt", "response_a", "response_b")]
            assert len(turns[0]) == len(turns[1]) == len(turns[2])
            labels = [int(rec[col[c]]) for c in ("winner_model_a", "winner_model_b", "winner_tie")]
            assert sorted(labels) == [0, 0, 1]
            assert rec[0] not in ids
            ids.add(rec[0])
            rows += 1
    return rows


best = float("inf")
for _ in range(3):
    start = time.perf_counter()
    n = parse(sys.argv[1])
    best = min(best, time.perf_counter() - start)
print(f"python csv+json parse+validate {n:,} rows: {best:.2f} s (best of 3)")
