"""Logistic regression by gradient descent, pure Python (params: train.epochs, train.lr)."""

import csv
import json
import math
import sys

import yaml

p = yaml.safe_load(open("params.yaml"))["train"]
with open(sys.argv[1]) as f:
    rows = list(csv.reader(f))[1:]
X = [[float(v) for v in r[:-1]] for r in rows]
Y = [int(r[-1]) for r in rows]
w = [0.0] * (len(X[0]) + 1)
for _ in range(p["epochs"]):
    grad = [0.0] * len(w)
    for x, y in zip(X, Y):
        z = w[0] + sum(wi * xi for wi, xi in zip(w[1:], x))
        err = 1 / (1 + math.exp(-max(min(z, 30), -30))) - y
        grad[0] += err
        for i, xi in enumerate(x):
            grad[i + 1] += err * xi
    w = [wi - p["lr"] * g / len(X) for wi, g in zip(w, grad)]
json.dump({"weights": w}, open(sys.argv[2], "w"))
