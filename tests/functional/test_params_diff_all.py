"""``pv params diff [--all]`` as DVC 3 (SPEC §8.1): the tracked params are the files stages name in
``params`` and the top-level ``params`` files, each whole, plus the values stages use from
``vars`` files (only those). Expected rows were taken from DVC 3 on the same project."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import PvRunner, gen, git, git_commit

PIPELINE = """\
vars:
  - config.yaml
params:
  - extra.yaml
stages:
  prepare:
    cmd: echo ${prepare.split} > p.txt
    params: [prepare]
    outs: [p.txt]
  train:
    cmd: echo ${model.depth} > t.txt
    params: [train.lr]
    outs: [t.txt]
"""


def test_params_diff_all_lists_the_tracked_params_as_dvc(pv_repo: Path, pv: PvRunner) -> None:
    gen({"pv.yaml": PIPELINE, "params.yaml": "train:\n  lr: 0.1\n  epochs: 3\nprepare:\n  split: 0.2\nunused: 1\n",
         "config.yaml": "model:\n  depth: 4\n  width: 8\n", "extra.yaml": "threshold: 0.5\nother: x\n"})
    git("add", "-A")
    git_commit("base")
    gen({"params.yaml": "train:\n  lr: 0.2\n  epochs: 4\nprepare:\n  split: 0.2\nunused: 2\n",
         "config.yaml": "model:\n  depth: 5\n  width: 9\n", "extra.yaml": "threshold: 0.6\nother: x\n"})
    changed = json.loads(pv.ok("params", "diff", "--json").stdout)
    assert {f: sorted(v) for f, v in changed.items()} == {
        "params.yaml": ["train.epochs", "train.lr", "unused"], "config.yaml": ["model.depth"],
        "extra.yaml": ["threshold"]}  # model.width: in a vars file, not used by any stage
    every = json.loads(pv.ok("params", "diff", "--all", "--json").stdout)
    assert {f: sorted(v) for f, v in every.items()} == {
        "params.yaml": ["prepare.split", "train.epochs", "train.lr", "unused"], "config.yaml": ["model.depth"],
        "extra.yaml": ["other", "threshold"]}
    assert every["extra.yaml"]["other"] == {"old": "x", "new": "x"}
    assert every["config.yaml"]["model.depth"] == {"old": 4, "new": 5}
