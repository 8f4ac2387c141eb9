"""Pipeline files in any folder (SPEC §8.1) and DVC's target rules.

The expected stage lists, DAG edges and dry-run plans were taken from DVC 3.x itself (dvc 3.x in
a scratch venv, the same project with ``dvc.yaml`` files), then pinned here; DVC is no test
dependency. DVC lists the files of other folders in directory-listing order; pv sorts them by
path (the root's first), which is the order pinned here.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers import PvRunner, gen

ROOT = """\
stages:
  prepare:
    cmd: cp data/raw.csv data/prep.csv
    deps: [data/raw.csv]
    outs: [data/prep.csv]
"""
SUB = """\
stages:
  train:
    cmd: cp ../data/prep.csv model.txt
    deps: [../data/prep.csv]
    outs: [model.txt]
  evaluate:
    cmd: cp model.txt metrics.json
    deps: [model.txt]
    metrics: [metrics.json: {cache: false}]
"""
OTHER = """\
stages:
  report:
    cmd: cp ../sub/metrics.json report.txt
    deps: [../sub/metrics.json]
    outs: [report.txt]
"""
ALONE = "stages:\n  alone:\n    cmd: echo hi > out.txt\n    outs: [out.txt]\n"


@pytest.fixture
def project(pv_repo: Path) -> Path:
    gen({"pv.yaml": ROOT, "sub": {"pv.yaml": SUB}, "other": {"pv.yaml": OTHER}, "a": {"pv.yaml": ALONE},
         "data": {"raw.csv": "a\n"}, "nothing": {"keep": ""}})
    return pv_repo


def _commit(root: Path) -> None:
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, capture_output=True)
    subprocess.run(["git", "commit", "-qm", "run"], cwd=root, check=True, capture_output=True)


def test_stage_list_defaults_to_this_folders_file_as_dvc(project: Path, pv: PvRunner) -> None:
    assert pv.ok("stage", "list").stdout == "prepare  Outputs data/prep.csv\n"
    assert pv.ok("stage", "list", "--all").stdout == (
        "prepare               Outputs data/prep.csv\n"
        "a/pv.yaml:alone       Outputs out.txt\n"
        "other/pv.yaml:report  Outputs report.txt\n"
        "sub/pv.yaml:train     Outputs model.txt\n"
        "sub/pv.yaml:evaluate  Reports metrics.json\n")
    assert pv.ok("stage", "list", cwd=project / "sub").stdout == (
        "train     Outputs model.txt\n"
        "evaluate  Reports metrics.json\n")
    assert pv.ok("stage", "list", "--all", "--name-only", cwd=project / "sub").stdout.split() == [
        "../pv.yaml:prepare", "../a/pv.yaml:alone", "../other/pv.yaml:report", "train", "evaluate"]
    res = pv("stage", "list", cwd=project / "nothing")
    assert res.exit_code == 1
    assert res.stderr.startswith("ERROR: 'nothing/pv.yaml' does not exist — ")


def test_dag_is_the_whole_repository(project: Path, pv: PvRunner) -> None:
    out = pv.ok("dag", "--dot").stdout
    for a, b in [("prepare", "sub/pv.yaml:train"), ("sub/pv.yaml:train", "sub/pv.yaml:evaluate"),
                 ("sub/pv.yaml:evaluate", "other/pv.yaml:report")]:
        assert f'"{a}" -> "{b}"' in out
    assert '"a/pv.yaml:alone"' in out
    sub = pv.ok("dag", "--dot", cwd=project / "sub").stdout  # named from the current folder, as DVC
    assert '"../pv.yaml:prepare" -> "train"' in sub and '"evaluate" -> "../other/pv.yaml:report"' in sub


def test_repro_runs_this_folders_file_with_its_upstream(project: Path, pv: PvRunner) -> None:
    res = pv.ok("repro", cwd=project / "sub")
    assert [ln for ln in res.stdout.splitlines() if ln.startswith("Running")] == [
        "Running stage '../pv.yaml:prepare':", "Running stage 'train':", "Running stage 'evaluate':"]
    assert not (project / "other/report.txt").exists() and not (project / "a/out.txt").exists()
    # each file's pv.lock beside it, paths relative to its folder
    lock = (project / "sub/pv.lock").read_text()
    assert "path: ../data/prep.csv" in lock and "path: model.txt" in lock
    assert "train:" not in (project / "pv.lock").read_text()
    assert (project / "sub/.gitignore").read_text() == "/model.txt\n"
    staged = subprocess.run(["git", "diff", "--cached", "--name-only"], cwd=project, capture_output=True,
                            text=True, check=True).stdout.split()
    assert "sub/pv.lock" in staged and "pv.lock" in staged
    assert pv.ok("repro", "other/pv.yaml:report").stdout.count("Running stage") == 1
    pv.ok("repro", "-R", "a")
    assert (project / "a/out.txt").read_text() == "hi\n"
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"


def test_dry_run_plans_in_three_states_match_dvc(project: Path, pv: PvRunner) -> None:
    # state 1, never run: DVC 3 fails here ('No such file' for data/prep.csv); pv lists every stage
    res = pv.ok("repro", "--dry", "-P")
    assert [ln for ln in res.stdout.splitlines() if ln.startswith("Would")] == [
        "Would run stage 'prepare':", "Would run stage 'a/pv.yaml:alone':", "Would run stage 'sub/pv.yaml:train':",
        "Would run stage 'sub/pv.yaml:evaluate':", "Would run stage 'other/pv.yaml:report':"]
    assert not (project / "data/prep.csv").exists()
    pv.ok("repro", "-P")
    _commit(project)
    # state 2, everything recorded: nothing would run (DVC: "didn't change" for each)
    res = pv.ok("repro", "--dry", "-P")
    assert "Would run" not in res.stdout and "May also" not in res.stdout
    assert res.stdout.endswith("Data and pipelines are up to date.\n")
    # state 3, the root's input changed: DVC lists only 'prepare' (-P, root and sub alike)
    (project / "data/raw.csv").write_text("b\n")
    res = pv.ok("repro", "--dry", "-P")
    lines = res.stdout.splitlines()
    assert [ln for ln in lines if ln.startswith("Would")] == ["Would run stage 'prepare':"]
    may = [ln for ln in lines if ln.startswith("May")]
    assert may == ["May also run stage 'sub/pv.yaml:train' (if upstream outputs change)",
                   "May also run stage 'sub/pv.yaml:evaluate' (if upstream outputs change)",
                   "May also run stage 'other/pv.yaml:report' (if upstream outputs change)"]
    assert lines.index(may[0]) > lines.index("Would run stage 'prepare':")
    res = pv.ok("repro", "--dry", cwd=project / "sub")
    assert [ln for ln in res.stdout.splitlines() if ln.startswith(("Would", "May"))] == [
        "Would run stage '../pv.yaml:prepare':",
        "May also run stage 'train' (if upstream outputs change)",
        "May also run stage 'evaluate' (if upstream outputs change)"]
    assert pv.ok("repro", "--dry").stdout.splitlines()[0] == "Would run stage 'prepare':"
    status = json.loads(pv.ok("status", "--json").stdout)
    assert status == {"prepare": [{"changed deps": {"data/raw.csv": "modified"}}]}  # as DVC's status


def test_gc_keeps_the_outputs_recorded_in_a_subfolders_lock(project: Path, pv: PvRunner) -> None:
    pv.ok("repro", "-P")
    _commit(project)
    pv.ok("gc", "-w", "-f")
    (project / "sub/model.txt").unlink()
    pv.ok("checkout")
    assert (project / "sub/model.txt").read_text() == "a\n"


def test_ignored_folders_are_not_searched(project: Path, pv: PvRunner) -> None:
    gen({".gitignore": "/venv/\n", "venv": {"pv.yaml": "stages:\n  x:\n    cmd: echo x\n"},
         ".pvignore": "/skipme\n", "skipme": {"pv.yaml": "stages:\n  y:\n    cmd: echo y\n"}})
    names = pv.ok("stage", "list", "--all", "--name-only").stdout.split()
    assert names == ["prepare", "a/pv.yaml:alone", "other/pv.yaml:report", "sub/pv.yaml:train",
                     "sub/pv.yaml:evaluate"]


def test_a_subfolder_lock_cannot_point_outside_the_repository(project: Path, pv: PvRunner) -> None:
    gen({"sub/pv.lock": "schema: '1'\nstages:\n  train:\n    cmd: x\n    outs:\n"
                        "    - path: ../../etc/passwd\n      oid: blake3:" + "0" * 64 + "\n      size: 1\n"})
    res = pv("status")
    assert res.exit_code == 1
    assert res.stderr.startswith("ERROR: ") and "sub/pv.lock" in res.stderr


MATRIX = """\
stages:
  train:
    matrix:
      model: [cnn, xgb]
      lr: [0.1, 1]
    cmd: echo ${item.model} ${item.lr} > out-${item.model}-${item.lr}.txt
    outs:
    - out-${item.model}-${item.lr}.txt
  shard:
    foreach: [a, b]
    do:
      cmd: echo ${item} > s-${item}.txt
      outs:
      - s-${item}.txt
  fz:
    cmd: echo fz > fz.txt
    outs: [fz.txt]
    frozen: true
  after:
    cmd: cat fz.txt > after.txt
    deps: [fz.txt]
    outs: [after.txt]
"""


def test_matrix_foreach_and_frozen_stages_as_dvc(pv_repo: Path, pv: PvRunner) -> None:
    gen({"pv.yaml": MATRIX})
    names = ["train@cnn-0.1", "train@cnn-1", "train@xgb-0.1", "train@xgb-1", "shard@a", "shard@b", "fz", "after"]
    assert pv.ok("stage", "list", "--name-only").stdout.split() == names  # DVC 3's names and order
    plan = [ln for ln in pv.ok("repro", "--dry").stdout.splitlines() if not ln.startswith(">")]
    # DVC: 'Running stage' for each but the frozen one ("is frozen" warning), then fails on 'after'
    # (its dep is missing in a dry run); pv lists 'after' too
    assert plan == [*(f"Would run stage '{n}':" for n in names[:6]), "Stage 'fz' is frozen, skipping",
                    "Would run stage 'after':"]
    assert [ln for ln in pv.ok("repro", "--dry", "train").stdout.splitlines() if ln.startswith("Would")] == [
        f"Would run stage '{n}':" for n in names[:4]]
    (pv_repo / "fz.txt").write_text("x\n")  # a frozen stage's output made by hand: what follows it runs
    pv.ok("repro", "-s", "after")
    assert (pv_repo / "after.txt").read_text() == "x\n"


def test_freeze_and_remove_edit_the_stages_own_file(project: Path, pv: PvRunner) -> None:
    pv.ok("repro", "-P")
    pv.ok("freeze", "sub/pv.yaml:train")
    assert "    frozen: true\n" in (project / "sub/pv.yaml").read_text()
    assert "frozen" not in (project / "pv.yaml").read_text()
    pv.ok("unfreeze", "train", cwd=project / "sub")  # a bare name: this folder's file
    assert "frozen" not in (project / "sub/pv.yaml").read_text()
    res = pv("freeze", "prepare", cwd=project / "sub")
    assert res.exit_code == 1
    assert res.stderr == "ERROR: stage 'prepare' does not exist in 'sub/pv.yaml' — see 'pv stage list'\n"
    pv.ok("remove", "other/pv.yaml:report")
    assert "report" not in (project / "other/pv.yaml").read_text()
    assert "report" not in (project / "other/pv.lock").read_text()
    assert "train:" in (project / "sub/pv.lock").read_text()


def test_experiment_runs_and_applies_every_pipeline_file(project: Path, pv: PvRunner) -> None:
    _commit(project)
    pv.ok("exp", "run", "-n", "all")
    assert not (project / "sub/model.txt").exists()  # ran in a temporary worktree
    pv.ok("exp", "apply", "all")
    assert (project / "sub/model.txt").read_text() == "a\n"  # a subfolder's cached output
    assert (project / "other/report.txt").read_text() == "a\n"
    assert "train:" in (project / "sub/pv.lock").read_text()
