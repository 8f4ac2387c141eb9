"""Add polynomial features up to featurize.degree."""

import csv
import os
import sys

import yaml

degree = yaml.safe_load(open("params.yaml"))["featurize"]["degree"]
src_dir, out_dir = sys.argv[1], sys.argv[2]
os.makedirs(out_dir, exist_ok=True)
for name in ("train.csv", "test.csv"):
    with open(os.path.join(src_dir, name)) as f:
        rows = list(csv.DictReader(f))
    with open(os.path.join(out_dir, name), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([f"x{d}" for d in range(1, degree + 1)] + [f"y{d}" for d in range(1, degree + 1)] + ["label"])
        for r in rows:
            x, y = float(r["x"]), float(r["y"])
            w.writerow([x**d for d in range(1, degree + 1)] + [y**d for d in range(1, degree + 1)] + [r["label"]])
