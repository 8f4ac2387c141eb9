"""`pipever.api.params_show` / `metrics_show`: the workspace, revisions, stages, merged files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipever import api
from pipever.errors import PvError, SchemaError, TargetError
from tests.helpers import gen, git_commit

PIPELINE = """\
params: [extra.json]
stages:
  prep:
    cmd: python prep.py
    params: [prep.split]
  train:
    cmd: python train.py
    params: [{conf.toml: [lr]}]
    metrics: [m.json]
"""


def setup_repo() -> None:
    gen({"pv.yaml": PIPELINE, "params.yaml": "prep:\n  split: 0.2\n  seed: 1\n", "conf.toml": "lr = 0.1\n",
         "extra.json": json.dumps({"lr": 9, "x": True}), "m.json": json.dumps({"auc": 0.7, "n": {"k": 1}})})
    git_commit("v1")
    gen({"params.yaml": "prep:\n  split: 0.3\n  seed: 1\n", "m.json": json.dumps({"auc": 0.8})})


def test_params_show_merges_files(pv_repo: Path) -> None:
    setup_repo()
    assert api.params_show() == {"prep": {"split": 0.3, "seed": 1}, "lr": 0.1, "extra.json:lr": 9, "x": True}
    assert api.params_show(rev="HEAD")["prep"] == {"split": 0.2, "seed": 1}
    assert api.params_show(deps=True) == {"prep": {"split": 0.3}, "lr": 0.1}
    assert api.params_show(stages="train") == {"lr": 0.1}
    assert api.params_show("extra.json", repo=str(pv_repo)) == {"lr": 9, "x": True}
    with pytest.raises(TargetError, match="stage 'nope' does not exist"):
        api.params_show(stages=["nope"])


def test_metrics_show_workspace_revision_and_errors(pv_repo: Path) -> None:
    setup_repo()
    assert api.metrics_show() == {"auc": 0.8}
    assert api.metrics_show(rev="HEAD") == {"auc": 0.7, "n": {"k": 1}}
    gen({"m.json": "{broken"})
    with pytest.raises(PvError, match="m.json:1: invalid JSON"):
        api.metrics_show()
    with pytest.raises(SchemaError):
        api.params_show("m.json")
