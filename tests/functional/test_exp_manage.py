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


# -- exp show options ----------------------------------------------------------------------------
def _three(pv: PvRunner) -> None:
    pv.ok("exp", "run", "-S", "train.lr=0.3", "-n", "a")
    pv.ok("exp", "run", "-S", "train.lr=0.05", "-n", "b")
    pv.ok("exp", "run", "-S", "train.lr=0.2", "-n", "c")


def test_show_sort_by_a_metric_or_param_within_the_baseline(proj: Path, pv: PvRunner) -> None:  # noqa: F811
    _three(pv)
    names = lambda *a: [line.split()[0] for line in pv.ok("exp", "show", *a).stdout.splitlines()[1:]]  # noqa: E731
    assert names() == ["workspace", "main", "a", "b", "c"]
    assert names("--sort-by", "acc") == ["workspace", "main", "b", "c", "a"]
    assert names("--sort-by", "metrics.json:acc", "--sort-order", "desc") == ["workspace", "main", "a", "c", "b"]
    assert names("--sort-by", "train.lr", "--sort-order", "desc") == ["workspace", "main", "a", "c", "b"]
    res = pv("exp", "show", "--sort-by", "nope")
    assert res.exit_code == 1 and "no param or metric 'nope' to sort by" in res.stderr


def test_show_only_changed_drop_and_keep(proj: Path, pv: PvRunner) -> None:  # noqa: F811
    _three(pv)
    header = lambda *a: pv.ok("exp", "show", *a).stdout.splitlines()[0].split()  # noqa: E731
    base = ["Experiment", "Type", "Baseline", "Created"]
    assert header("--only-changed") == [*base, "train.lr", "acc"]
    assert header("--only-changed", "--keep", "epochs") == [*base, "train.lr", "train.epochs", "acc"]
    assert header("--drop", "train\\.") == [*base, "acc"]
    assert header("--drop", ".", "--keep", "^acc$") == [*base, "acc"]
    res = pv("exp", "show", "--drop", "(")
    assert res.exit_code == 2 and "is not a regular expression" in res.stderr


def test_show_csv_has_every_column_and_full_precision(proj: Path, pv: PvRunner) -> None:  # noqa: F811
    pv.ok("exp", "run", "-S", "train.lr=0.123456789", "-n", "a")
    import csv
    import io

    rows = list(csv.reader(io.StringIO(pv.ok("exp", "show", "--csv").stdout)))
    assert rows[0] == ["Experiment", "Type", "Baseline", "Created", "train.lr", "train.epochs", "train.sleep",
                       "train.fail", "acc"]
    a = dict(zip(rows[0], rows[3]))
    assert (a["Experiment"], a["train.lr"], a["acc"]) == ("a", "0.123456789", "0.246913578")


def test_show_on_a_narrow_terminal_keeps_every_column(proj: Path, tmp_path: Path) -> None:  # noqa: F811
    """Run under a real pseudo-terminal 60 columns wide: the table comes in blocks that fit, each
    repeating the experiment's name, and no title or value is cut; --no-trunc prints one wide table."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios

    def run(*args: str) -> str:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 60, 0, 0))
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        proc = subprocess.Popen([sys.executable, "-m", "pipever", "exp", "show", *args], cwd=proj,
                                stdin=slave, stdout=slave, stderr=slave, env={**env, "TERM": "dumb"})
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=60)
        os.close(master)
        return b"".join(chunks).decode().replace("\r\n", "\n")

    text = run()
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 60, text
    for title in ["Experiment", "Created", "train.lr", "train.epochs", "train.sleep", "train.fail", "acc"]:
        assert title in text.split(), text
    blocks = text.strip("\n").split("\n\n")
    assert len(blocks) >= 2 and all(b.splitlines()[0].startswith("Experiment") for b in blocks)
    assert all(b.splitlines()[1].startswith("workspace") for b in blocks)
    wide = run("--no-trunc")
    assert max(len(line) for line in wide.splitlines()) > 60 and "\n\n" not in wide.strip("\n")
