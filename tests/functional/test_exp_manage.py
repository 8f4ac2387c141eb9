"""pv exp list, diff, save, rename and clean (the verbs DVC users reach for beside run/show)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.functional.test_exp import no_worktrees, proj  # noqa: F401 - the fixture
from tests.helpers import PvRunner, gen, git, git_commit


def test_list_groups_experiments_by_baseline(proj: Path, pv: PvRunner) -> None:  # noqa: F811
    pv.ok("exp", "run", "-S", "train.lr=0.3", "-n", "a")
    pv.ok("exp", "run", "-S", "train.lr=0.4", "-n", "b")
    assert pv.ok("exp", "list").stdout == "main:\n\ta\n\tb\n"
    assert pv.ok("exp", "ls", "--name-only").stdout == "a\nb\n"
    old = git("rev-parse", "--short=7", "HEAD").strip()
    gen({"data.txt": "d2"})
    pv.ok("add", "data.txt")
    git_commit("new data")
    assert pv.ok("exp", "list").stdout == "main:\n"
    assert pv.ok("exp", "list", "-A").stdout == f"{old}:\n\ta\n\tb\n"
    assert json.loads(pv.ok("exp", "list", "--rev", "HEAD~1", "--json").stdout) == {"HEAD~1": ["a", "b"]}


def test_diff_shows_changed_params_and_metrics_with_the_change(proj: Path, pv: PvRunner) -> None:  # noqa: F811
    pv.ok("exp", "run", "-S", "train.lr=0.3", "-n", "a")
    pv.ok("exp", "run", "-S", "train.epochs=5", "-n", "b")
    doc = json.loads(pv.ok("exp", "diff", "a", "b", "--json").stdout)
    assert doc["metrics"] == {"metrics.json": {"acc": {"old": 0.6, "new": 0.2, "diff": 0.2 - 0.6}}}
    assert doc["params"] == {"params.yaml": {"train.epochs": {"old": 3, "new": 5, "diff": 2},
                                             "train.lr": {"old": 0.3, "new": 0.1, "diff": 0.1 - 0.3}}}
    lines = pv.ok("exp", "diff", "a", "b").stdout.splitlines()
    assert lines[0].split() == ["Path", "Param/Metric", "a", "b", "Change"]
    assert lines[1].split() == ["metrics.json", "acc", "0.6", "0.2", "-0.4"]
    assert pv.ok("exp", "diff").stdout == "No params or metrics differ between 'HEAD' and 'workspace'.\n"
    everything = json.loads(pv.ok("exp", "diff", "HEAD", "a", "--all", "--json").stdout)
    assert everything["params"]["params.yaml"]["train.sleep"] == {"old": 0, "new": 0, "diff": 0}
    res = pv("exp", "diff", "nope", "a")
    assert res.exit_code == 1 and "'nope' is neither an experiment nor a commit" in res.stderr


def test_save_records_the_workspace_without_touching_branch_index_or_files(proj: Path, pv: PvRunner) -> None:  # noqa: F811
    gen({"params.yaml": (proj / "params.yaml").read_text().replace("lr: 0.1", "lr: 0.7"), "notes.txt": "n"})
    pv.ok("repro")
    head, status = git("rev-parse", "HEAD").strip(), git("status", "--porcelain")
    index = git("ls-files", "-s")
    res = pv.ok("exp", "save", "-n", "manual", "-I", "notes.txt")
    assert res.stdout.startswith("Experiment 'manual' saved as refs/exps/manual (")
    assert git("rev-parse", "HEAD").strip() == head and git("status", "--porcelain") == status
    assert git("ls-files", "-s") == index
    assert git("rev-parse", "refs/exps/manual^").strip() == head
    assert "lr: 0.7" in git("show", "refs/exps/manual:params.yaml")
    assert git("show", "refs/exps/manual:notes.txt") == "n"
    assert git("show", "refs/exps/manual:pv.lock") == (proj / "pv.lock").read_text()
    assert json.loads(git("show", "refs/exps/manual:metrics.json")) == {"acc": 1.4}
    res = pv("exp", "save", "-n", "manual")
    assert res.exit_code == 1 and "experiment 'manual' already exists" in res.stderr
    pv.ok("exp", "save", "-n", "manual", "-f")
    rows = {r["name"]: r for r in json.loads(pv.ok("exp", "show", "--json").stdout)}
    assert rows["manual"]["metrics"] == {"metrics.json": {"acc": 1.4}}


def test_rename_keeps_the_commit(proj: Path, pv: PvRunner) -> None:  # noqa: F811
    pv.ok("exp", "run", "-S", "train.lr=0.3", "-n", "a")
    pv.ok("exp", "run", "-S", "train.lr=0.4", "-n", "b")
    sha = git("rev-parse", "refs/exps/a").strip()
    assert pv.ok("exp", "rename", "a", "best").stdout == "Renamed experiment 'a' to 'best'\n"
    assert git("rev-parse", "refs/exps/best").strip() == sha
    assert git("for-each-ref", "--format=%(refname)", "refs/exps").split() == ["refs/exps/b", "refs/exps/best"]
    res = pv("exp", "rename", "best", "b")
    assert res.exit_code == 1 and "experiment 'b' already exists" in res.stderr
    res = pv("exp", "rename", "nope", "c")
    assert res.exit_code == 1 and "experiment 'nope' does not exist" in res.stderr


def test_clean_removes_leftovers_of_killed_runs(proj: Path, pv: PvRunner) -> None:  # noqa: F811
    dead = proj / ".pv/tmp/exp-runs/deadbeef0000"
    git("worktree", "add", "-q", "--detach", str(dead), "HEAD")
    assert pv.ok("exp", "clean").stdout == "Removed 1 leftover experiment worktree(s)\n"
    assert no_worktrees(proj)
    assert pv.ok("exp", "clean").stdout == "Nothing to clean.\n"
