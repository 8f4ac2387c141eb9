"""Split the raw CSV into train and test sets (params: prepare.split, prepare.seed)."""

import csv
import os
import random
import sys

import yaml

params = yaml.safe_load(open("params.yaml"))["prepare"]
src, out_dir = sys.argv[1], sys.argv[2]
with open(src) as f:
    rows = list(csv.reader(f))
header, body = rows[0], rows[1:]
random.Random(params["seed"]).shuffle(body)
cut = int(len(body) * (1 - params["split"]))
os.makedirs(out_dir, exist_ok=True)
for name, part in (("train.csv", body[:cut]), ("test.csv", body[cut:])):
    with open(os.path.join(out_dir, name), "w", newline="") as f:
        csv.writer(f).writerows([header, *part])
