"""Accuracy and log-loss on the test set -> metrics.json; ROC points -> plots/roc.csv."""

import csv
import json
import math
import os
import sys

w = json.load(open(sys.argv[1]))["weights"]
with open(sys.argv[2]) as f:
    rows = list(csv.reader(f))[1:]
scores, labels = [], []
for r in rows:
    x = [float(v) for v in r[:-1]]
    z = w[0] + sum(wi * xi for wi, xi in zip(w[1:], x))
    scores.append(1 / (1 + math.exp(-max(min(z, 30), -30))))
    labels.append(int(r[-1]))
acc = sum((s >= 0.5) == bool(y) for s, y in zip(scores, labels)) / len(labels)
loss = -sum(math.log(max(s if y else 1 - s, 1e-12)) for s, y in zip(scores, labels)) / len(labels)
json.dump({"accuracy": round(acc, 4), "logloss": round(loss, 4)}, open("metrics.json", "w"), indent=2)
os.makedirs("plots", exist_ok=True)
with open("plots/roc.csv", "w", newline="") as f:
    out = csv.writer(f)
    out.writerow(["threshold", "tpr", "fpr"])
    pos = sum(labels) or 1
    neg = (len(labels) - sum(labels)) or 1
    for t in [i / 20 for i in range(21)]:
        tp = sum(s >= t and y for s, y in zip(scores, labels))
        fp = sum(s >= t and not y for s, y in zip(scores, labels))
        out.writerow([t, round(tp / pos, 4), round(fp / neg, 4)])
