"""A small but complete project for the ``pv ui`` tests and screenshots: tracked data, a
four-stage pipeline (one frozen) with metrics and plots, two commits, three experiments and a
queued one, a model with versions, stages and a rollback, and a local remote holding part of
the data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.helpers import PvRunner, gen, git, git_commit

PREPARE = """\
import csv, random
random.seed(1)
rows = list(csv.DictReader(open("data/raw.csv")))
random.shuffle(rows)
with open("data/prepared.csv", "w") as f:
    f.write("x,y\\n" + "".join(f"{r['x']},{r['y']}\\n" for r in rows))
"""
TRAIN = """\
import json, math, os, sys, time, yaml
hold = os.environ.get("DEMO_HOLD")  # tests: run until this file is gone (at most 60 s)
end = time.time() + 60
while hold and os.path.exists(hold) and time.time() < end:
    time.sleep(0.05)
if os.environ.get("DEMO_FAIL"):
    sys.exit("demo failure asked for")
p = yaml.safe_load(open("params.yaml"))["train"]
os.makedirs("logs", exist_ok=True)
rows = ["epoch,loss,acc"]
for e in range(1, p["epochs"] + 1):
    loss = round(math.exp(-p["lr"] * e * 3) + 0.05, 4)
    rows.append(f"{e},{loss},{round(1 - loss / 2, 4)}")
open("logs/loss.csv", "w").write("\\n".join(rows) + "\\n")
open("model.pkl", "wb").write(json.dumps(p).encode() * 50)
os.makedirs("plots", exist_ok=True)
bars = "".join(f'<rect x="10" y="{10 + 30 * i}" width="{int(200 * w)}" height="20" fill="#4c78a8"/>'
               f'<text x="{15 + int(200 * w)}" y="{25 + 30 * i}" font-size="12">f{i}</text>'
               for i, w in enumerate([p["lr"] * 2, 0.5, 1 - p["lr"], p["epochs"] / 10]))
open("plots/importance.svg", "w").write('<svg xmlns="http://www.w3.org/2000/svg" width="260" height="130">' + bars + "</svg>")
"""
EVALUATE = """\
import json
last = open("logs/loss.csv").read().split()[-1].split(",")
json.dump({"acc": float(last[2]), "loss": float(last[1])}, open("metrics.json", "w"))
"""
PIPELINE = f"""\
stages:
  prepare:
    cmd: python prepare.py
    deps: [prepare.py, data/raw.csv]
    outs: [data/prepared.csv]
  train:
    cmd: python train.py
    deps: [train.py, data/prepared.csv]
    params: [train]
    outs: [model.pkl]
    plots: [{{logs/loss.csv: {{cache: false, x: epoch, y: loss}}}}, {{plots/importance.svg: {{cache: false}}}}]
  evaluate:
    cmd: python evaluate.py
    deps: [evaluate.py, logs/loss.csv]
    metrics: [{{metrics.json: {{cache: false}}}}]
  publish:
    cmd: cp metrics.json published.json
    deps: [metrics.json]
    outs: [{{published.json: {{cache: false}}}}]
    frozen: true
plots:
- accuracy: {{x: epoch, y: {{logs/loss.csv: acc}}, template: scatter, title: Accuracy by epoch}}
artifacts:
  classifier: {{path: model.pkl, type: model, desc: Demo classifier}}
"""
RAW = "x,y\n" + "".join(f"{i},{(i * 7) % 11}\n" for i in range(40))


def env_path() -> str:
    """PATH with this Python's folder first: the stages run ``python`` (with pyyaml)."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


def build(root: Path, pv: PvRunner, remote: Path) -> None:
    """Build the project in ``root`` (a ``pv init``-ed Git repo, the current directory), with
    ``PATH`` set by ``env_path()``."""
    gen({"prepare.py": PREPARE, "train.py": TRAIN, "evaluate.py": EVALUATE, "pv.yaml": PIPELINE,
         "params.yaml": "train:\n  lr: 0.1\n  epochs: 4\n  seed: 7\n", "data": {"raw.csv": RAW},
         "images": {"a.bin": b"\x00" * 3000, "b.bin": b"\x01" * 5000}}, root)
    pv.ok("add", "data/raw.csv")
    pv.ok("add", "images")
    pv.ok("remote", "add", "-d", "storage", str(remote))
    pv.ok("push", "data/raw.csv")  # the remote has the raw data, not the rest
    pv.ok("repro")
    git_commit("baseline v1", cwd=root)
    pv.ok("model", "register", "classifier", "--version", "v1.0.0")
    pv.ok("model", "promote", "classifier", "v1.0.0", "staging")
    pv.ok("model", "promote", "classifier", "v1.0.0", "prod")
    gen({"params.yaml": "train:\n  lr: 0.2\n  epochs: 5\n  seed: 7\n"}, root)
    pv.ok("repro")
    git_commit("faster learning rate", cwd=root)
    pv.ok("model", "register", "classifier", "--version", "v1.1.0")
    pv.ok("model", "promote", "classifier", "v1.1.0", "prod")
    pv.ok("model", "rollback", "classifier", "prod")
    pv.ok("exp", "run", "-S", "train.lr=0.35", "-n", "quick-lynx")
    pv.ok("exp", "run", "-S", "train.epochs=8", "-n", "long-otter")
    pv.ok("exp", "run", "-S", "train.lr=0.05", "-S", "train.epochs=6", "-n", "slow-heron")
    pv.ok("exp", "run", "--queue", "-S", "train.lr=0.5", "-n", "queued-crane")
    gen({"params.yaml": "train:\n  lr: 0.25\n  epochs: 5\n  seed: 7\n"}, root)  # the workspace differs: train is stale
    assert git("status", "--porcelain", cwd=root).strip() == "M params.yaml"
