"""Generate a small deterministic dataset: two noisy clusters in 2-D, as CSV."""

import csv
import random
import sys

rows, seed, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = random.Random(seed)
with open(out, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["x", "y", "label"])
    for _ in range(rows):
        label = rng.random() < 0.5
        cx, cy = (1.0, 1.0) if label else (-1.0, -1.0)
        w.writerow([round(rng.gauss(cx, 1.2), 4), round(rng.gauss(cy, 1.2), 4), int(label)])
