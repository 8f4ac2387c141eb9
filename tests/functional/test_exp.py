"""pv exp: run with -S in a temporary worktree (HEAD, branch, index and workspace untouched),
show (table, --json, --md), --queue and --run-all -j, apply (and its refusal to lose unsaved
work), branch, remove, push/pull through a bare Git remote and a local pv remote, bad input,
failures and Ctrl-C leaving no worktree behind."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import PvRunner, gen, git, git_commit

TRAIN = """\
import json, os, sys, time, yaml
p = yaml.safe_load(open("params.yaml"))["train"]
if p["sleep"]:
    open(os.environ["PV_ROOT"] + "/started", "w").close()
    time.sleep(p["sleep"])
if p["fail"]:
    sys.exit(3)
json.dump({"acc": p["lr"] * 2}, open("metrics.json", "w"))
open("model.bin", "w").write("lr=%s epochs=%s data=%s" % (p["lr"], p["epochs"], open("data.txt").read()))
"""
PIPELINE = f"""\
stages:
  train:
    cmd: {sys.executable} train.py
    deps: [data.txt, train.py]
    params: [train]
    outs: [model.bin]
    metrics: [{{metrics.json: {{cache: false}}}}]
"""
PARAMS = "train:\n  lr: 0.1  # learning rate\n  epochs: 3\n  sleep: 0\n  fail: false\n"


@pytest.fixture
def proj(pv_repo: Path, pv: PvRunner) -> Path:
    gen({"train.py": TRAIN, "pv.yaml": PIPELINE, "params.yaml": PARAMS, "data.txt": "d1"})
    pv.ok("add", "data.txt")
    pv.ok("repro")
    git_commit("baseline")
    return pv_repo


def show_json(pv: PvRunner) -> dict[str, dict[str, object]]:
    return {row["name"]: row for row in json.loads(pv.ok("exp", "show", "--json").stdout)}


def at_ref(name: str, path: str) -> str:
    return git("show", f"refs/exps/{name}:{path}")


def no_worktrees(root: Path) -> bool:
    runs = root / ".pv/tmp/exp-runs"
    return len(git("worktree", "list").splitlines()) == 1 and not (runs.exists() and any(runs.iterdir()))


def fails(res: object, text: str) -> None:
    assert res.exit_code == 1, res  # type: ignore[attr-defined]
    last = res.stderr.splitlines()[-1]  # type: ignore[attr-defined]  # after the stages' own output
    assert last.startswith("ERROR: ") and text in last, res
    assert "Traceback" not in res.stderr, res  # type: ignore[attr-defined]


def test_run_takes_uncommitted_vars_files_from_the_workspace(pv_repo: Path, pv: PvRunner) -> None:
    gen({
        "pv.yaml": "vars: [config.yaml]\nstages:\n  say:\n    cmd: echo ${word} > said.txt\n    outs: [said.txt]\n",
        "config.yaml": "word: committed\n",
    })
    pv.ok("repro")
    git_commit("baseline")
    (pv_repo / "config.yaml").write_text("word: uncommitted\n")  # as params.yaml: the run uses it
    pv.ok("exp", "run", "-n", "v")
    assert at_ref("v", "config.yaml") == "word: uncommitted\n"
    assert "cmd: echo uncommitted > said.txt" in at_ref("v", "pv.lock")
    assert (pv_repo / "said.txt").read_text() == "committed\n"  # the workspace is untouched


def test_run_saves_a_ref_and_leaves_head_branch_index_and_workspace_alone(proj: Path, pv: PvRunner) -> None:
    (proj / "params.yaml").write_text(PARAMS.replace("epochs: 3", "epochs: 4"))  # uncommitted: the run uses it
    head, before = git("rev-parse", "HEAD"), git("status", "--porcelain")
    files = {p: (proj / p).read_text() for p in ("params.yaml", "metrics.json", "model.bin", "pv.lock")}
    res = pv.ok("exp", "run", "-S", "train.lr=0.3", "-n", "fast")
    assert "Experiment 'fast' saved as refs/exps/fast" in res.stdout
    assert git("rev-parse", "HEAD") == head and git("branch", "--show-current") == "main\n"
    assert git("status", "--porcelain") == before
    assert {p: (proj / p).read_text() for p in files} == files
    assert git("rev-parse", "refs/exps/fast^") == head
    assert at_ref("fast", "params.yaml") == PARAMS.replace("lr: 0.1", "lr: 0.3").replace("epochs: 3", "epochs: 4")
    assert json.loads(at_ref("fast", "metrics.json")) == {"acc": 0.6}
    assert "-S train.lr=0.3" in git("log", "-1", "--format=%B", "refs/exps/fast")
    lock = at_ref("fast", "pv.lock")
    assert "        lr: 0.3\n" in lock and lock != files["pv.lock"]
    oid = lock.split("path: model.bin\n      oid: blake3:")[1][:64]
    cached = proj / ".pv/cache/blake3" / oid[:2] / oid[2:]
    assert cached.read_text() == "lr=0.3 epochs=4 data=d1"  # the output went into the shared cache
    assert no_worktrees(proj)


def test_run_uses_uncommitted_changes_to_code_and_data(proj: Path, pv: PvRunner) -> None:
    # as 'dvc exp run': the experiment runs what the workspace has, not only its params
    (proj / "train.py").write_text(TRAIN.replace('"lr=%s', '"v2 lr=%s'))
    (proj / "data.txt").chmod(0o644)
    (proj / "data.txt").write_text("d2")
    pv.ok("add", "data.txt")
    git("add", "train.py")
    (proj / "notes.txt").write_text("x")
    git("add", "notes.txt")
    git("rm", "-q", "--cached", "notes.txt")  # never committed: no business of the experiment
    before = git("status", "--porcelain")
    pv.ok("exp", "run", "-S", "train.lr=0.3", "-n", "fast")
    assert git("status", "--porcelain") == before
    assert at_ref("fast", "train.py") == (proj / "train.py").read_text()
    lock = at_ref("fast", "pv.lock")
    oid = lock.split("path: model.bin\n      oid: blake3:")[1][:64]
    assert (proj / ".pv/cache/blake3" / oid[:2] / oid[2:]).read_text() == "v2 lr=0.3 epochs=3 data=d2"
    assert no_worktrees(proj)
    pv.ok("exp", "apply", "fast")  # the workspace already has the experiment's code: no conflict
    assert (proj / "model.bin").read_text() == "v2 lr=0.3 epochs=3 data=d2"
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"


def test_show_tables_workspace_baseline_and_experiments(proj: Path, pv: PvRunner) -> None:
    pv.ok("exp", "run", "-S", "train.lr=0.3", "-n", "a")
    pv.ok("exp", "run", "-S", "params.yaml:train.epochs=9", "-n", "b", "-j", "2")
    rows = show_json(pv)
    assert list(rows) == ["workspace", "main", "a", "b"]
    assert [rows[n]["type"] for n in rows] == ["workspace", "baseline", "experiment", "experiment"]
    head = git("rev-parse", "HEAD").strip()
    assert rows["a"]["baseline"] == head and rows["main"]["rev"] == head
    assert rows["a"]["rev"] == git("rev-parse", "refs/exps/a").strip()
    assert rows["a"]["params"] == {"params.yaml": {"train": {"lr": 0.3, "epochs": 3, "sleep": 0, "fail": False}}}
    assert rows["a"]["metrics"] == {"metrics.json": {"acc": 0.6}}
    assert rows["b"]["metrics"] == {"metrics.json": {"acc": 0.2}}
    assert rows["workspace"]["metrics"] == {"metrics.json": {"acc": 0.2}}
    assert str(rows["a"]["created"]).startswith("20")
    md = pv.ok("exp", "show", "--md").stdout.splitlines()
    assert md[0] == ("| Experiment | Type | Baseline | Created | train.lr | train.epochs | train.sleep | train.fail "
                     "| acc |")
    assert md[5].startswith(f"| b | experiment | {head[:7]} | ") and md[5].endswith("| 0.1 | 9 | 0 | false | 0.2 |")
    table = pv.ok("exp", "show").stdout
    assert table.splitlines()[0].split() == ["Experiment", "Type", "Baseline", "Created", "train.lr", "train.epochs",
                                             "train.sleep", "train.fail", "acc"]
    assert table.splitlines()[3].split()[0:3] == ["a", "experiment", head[:7]]


def test_show_marks_experiments_of_another_baseline(proj: Path, pv: PvRunner) -> None:
    pv.ok("exp", "run", "-S", "train.lr=0.3", "-n", "old")
    old_head = git("rev-parse", "--short=7", "HEAD").strip()
    (proj / "data.txt").write_text("d2")
    pv.ok("add", "data.txt")
    git_commit("new data")
    rows = show_json(pv)
    assert list(rows) == ["workspace", "main", old_head, "old"]
    assert rows[old_head]["type"] == "baseline" and rows["old"]["baseline"].startswith(old_head)  # type: ignore


def test_queue_then_run_all_in_parallel(proj: Path, pv: PvRunner) -> None:
    assert "Queued experiment 'q1'" in pv.ok("exp", "run", "--queue", "-S", "train.lr=0.5", "-n", "q1").stdout
    res = pv.ok("exp", "run", "--queue", "-S", "train.epochs=5")
    auto = res.stdout.split("'")[1]
    assert not git("for-each-ref", "refs/exps")  # nothing ran
    rows = show_json(pv)
    assert rows["q1"]["type"] == "queued" and rows["q1"]["params"]["params.yaml"]["train"]["lr"] == 0.5  # type: ignore
    fails(pv("exp", "run", "--queue", "-n", "q1"), "experiment 'q1' already exists")
    res = pv.ok("exp", "run", "--run-all", "-j", "2")
    assert f"Experiment '{auto}' saved" in res.stdout and "Experiment 'q1' saved" in res.stdout
    assert json.loads(at_ref("q1", "metrics.json")) == {"acc": 1.0}
    assert "epochs: 5" in at_ref(auto, "params.yaml")
    assert {r["type"] for r in show_json(pv).values()} == {"workspace", "baseline", "experiment"}
    assert pv.ok("exp", "run", "--run-all").stdout == "No experiments are queued.\n"
    assert no_worktrees(proj)


def test_run_all_reports_a_failed_run_and_saves_the_others(proj: Path, pv: PvRunner) -> None:
    pv.ok("exp", "run", "--queue", "-S", "train.fail=true", "-n", "bad")
    pv.ok("exp", "run", "--queue", "-S", "train.lr=0.2", "-n", "good")
    fails(pv("exp", "run", "--run-all"), "1 queued experiment(s) failed: 'bad':")
    assert git("for-each-ref", "--format=%(refname)", "refs/exps") == "refs/exps/good\n"
    assert no_worktrees(proj)


def test_apply_brings_params_lock_metrics_and_outputs(proj: Path, pv: PvRunner) -> None:
    pv.ok("exp", "run", "-S", "train.lr=0.3", "-n", "fast")
    head = git("rev-parse", "HEAD")
    res = pv.ok("exp", "apply", "fast")
    assert "Applied experiment 'fast': metrics.json, params.yaml, pv.lock" in res.stdout
    assert "lr: 0.3  # learning rate" in (proj / "params.yaml").read_text()
    assert (proj / "model.bin").read_text() == "lr=0.3 epochs=3 data=d1"
    assert json.loads((proj / "metrics.json").read_text()) == {"acc": 0.6}
    assert (proj / "pv.lock").read_text() == at_ref("fast", "pv.lock")
    assert git("rev-parse", "HEAD") == head
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"
    assert set(git("diff", "--cached", "--name-only").split()) == {"metrics.json", "params.yaml", "pv.lock"}


def test_apply_refuses_to_lose_unsaved_data_or_changes_without_force(proj: Path, pv: PvRunner) -> None:
    pv.ok("exp", "run", "-S", "train.lr=0.3", "-n", "fast")
    (proj / "model.bin").chmod(0o644)
    (proj / "model.bin").write_text("precious")
    fails(pv("exp", "apply", "fast"), "file(s) changed in the workspace are not in the cache and would be lost: 'model.bin'")
    assert (proj / "model.bin").read_text() == "precious"
    assert (proj / "params.yaml").read_text() == PARAMS  # nothing was written
    (proj / "model.bin").unlink()
    pv.ok("checkout")
    (proj / "params.yaml").write_text(PARAMS.replace("epochs: 3", "epochs: 8"))
    fails(pv("exp", "apply", "fast"), "applying 'fast' would overwrite uncommitted changes to 'params.yaml'")
    assert "epochs: 8" in (proj / "params.yaml").read_text()
    pv.ok("exp", "apply", "fast", "--force")
    assert "lr: 0.3" in (proj / "params.yaml").read_text() and "epochs: 3" in (proj / "params.yaml").read_text()


def test_branch_creates_a_branch_at_the_experiment(proj: Path, pv: PvRunner) -> None:
    pv.ok("exp", "run", "-S", "train.lr=0.3", "-n", "fast")
    assert "Created branch 'try-fast'" in pv.ok("exp", "branch", "fast", "try-fast").stdout
    assert git("rev-parse", "try-fast") == git("rev-parse", "refs/exps/fast")
    assert git("branch", "--show-current") == "main\n"
    fails(pv("exp", "branch", "fast", "try-fast"), "branch 'try-fast' already exists")
    fails(pv("exp", "branch", "fast", "bad..name"), "'bad..name' is not a valid branch name")
    fails(pv("exp", "branch", "nope", "x"), "experiment 'nope' does not exist")


def test_remove_deletes_refs_and_nothing_when_a_name_is_unknown(proj: Path, pv: PvRunner) -> None:
    for name in ("a", "b", "c"):
        pv.ok("exp", "run", "-S", "train.lr=0.3", "-n", name)
    pv.ok("exp", "run", "--queue", "-n", "q")
    fails(pv("exp", "remove", "a", "nope"), "experiment 'nope' does not exist")
    assert git("rev-parse", "--verify", "-q", "refs/exps/a", check=False)
    assert pv.ok("exp", "remove", "a", "q").stdout == "Removed experiment 'a'\nRemoved queued experiment 'q'\n"
    assert not git("rev-parse", "--verify", "-q", "refs/exps/a", check=False)
    pv.ok("exp", "remove", "--all")
    assert not git("for-each-ref", "refs/exps") and list(show_json(pv)) == ["workspace", "main"]


def test_push_and_pull_through_git_and_pv_remotes_into_a_fresh_clone(proj: Path, pv: PvRunner, tmp_path: Path) -> None:
    bare = tmp_path / "origin.git"
    git("init", "-q", "--bare", "-b", "main", str(bare))
    git("remote", "add", "origin", str(bare))
    pv.ok("remote", "add", "-d", "store", str(tmp_path / "store"))
    git_commit("remote")
    git("push", "-q", "origin", "main")
    pv.ok("exp", "run", "-S", "train.lr=0.7", "-n", "far")
    res = pv.ok("exp", "push", "origin", "far")
    # the experiment's data (data.txt and its model.bin), not the workspace's
    assert "Pushed far to Git remote 'origin', 2 data object(s) pushed to 'store'" in res.stdout
    assert "refs/exps/far" in git("ls-remote", str(bare))
    fails(pv("exp", "push", "nowhere", "far"), "Git remote 'nowhere' does not exist")
    fails(pv("exp", "push", "origin", "nope"), "experiment 'nope' does not exist")

    clone = tmp_path / "clone"
    git("clone", "-q", str(bare), str(clone))
    fails(pv("exp", "pull", "origin", "nope", cwd=clone), "experiment 'nope' does not exist on Git remote 'origin'")
    res = pv.ok("exp", "pull", "origin", "far", cwd=clone)
    assert "Pulled far from Git remote 'origin'" in res.stdout and "fetched from 'store'" in res.stdout
    assert git("rev-parse", "refs/exps/far", cwd=clone) == git("rev-parse", "refs/exps/far")
    pv.ok("exp", "apply", "far", cwd=clone)
    assert (clone / "model.bin").read_text() == "lr=0.7 epochs=3 data=d1"
    assert json.loads((clone / "metrics.json").read_text()) == {"acc": 1.4}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "-S", "train.lr"], "invalid -S 'train.lr': expected FILE:KEY=VALUE or KEY=VALUE"),
        (["run", "-S", "=3"], "invalid -S '=3'"),
        (["run", "-S", "../x.yaml:a=1"], "invalid -S '../x.yaml:a=1'"),
        (["run", "-S", "train.nope=1"], "unknown param 'train.nope' in 'params.yaml'"),
        (["run", "-S", "other.yaml:a=1"], "params file 'other.yaml' does not exist"),
        (["run", "-n", "bad/name"], "invalid experiment name 'bad/name'"),
        (["run", "-n", "-x"], "invalid experiment name '-x'"),
        (["run", "-n", "a..b"], "invalid experiment name 'a..b'"),
        (["apply", "nope"], "experiment 'nope' does not exist"),
        (["remove", "nope"], "experiment 'nope' does not exist"),
        (["apply", "../x"], "invalid experiment name '../x'"),
    ],
)
def test_bad_input_is_an_error_and_runs_nothing(proj: Path, pv: PvRunner, args: list[str], message: str) -> None:
    fails(pv("exp", *args), message)
    assert not git("for-each-ref", "refs/exps") and no_worktrees(proj)


def test_duplicate_name_is_refused_with_a_hint(proj: Path, pv: PvRunner) -> None:
    pv.ok("exp", "run", "-S", "train.lr=0.3", "-n", "fast")
    sha = git("rev-parse", "refs/exps/fast")
    fails(pv("exp", "run", "-S", "train.lr=0.4", "-n", "fast"),
          "experiment 'fast' already exists — choose another name with -n, or remove it first: pv exp remove fast")
    assert git("rev-parse", "refs/exps/fast") == sha


def test_failing_stage_saves_nothing_and_removes_the_worktree(proj: Path, pv: PvRunner) -> None:
    fails(pv("exp", "run", "-S", "train.fail=true", "-n", "boom"),
          "experiment 'boom' failed: failed to reproduce 'train': command")
    assert not git("for-each-ref", "refs/exps") and no_worktrees(proj)
    assert git("status", "--porcelain") == ""


def test_leftover_worktree_of_a_killed_run_is_removed_by_the_next_run(proj: Path, pv: PvRunner) -> None:
    dead = proj / ".pv/tmp/exp-runs/deadbeef0000"
    git("worktree", "add", "-q", "--detach", str(dead), "HEAD")
    pv.ok("exp", "run", "-S", "train.lr=0.3")
    assert no_worktrees(proj)


def test_ctrl_c_exits_130_and_leaves_no_worktree(proj: Path, pv: PvRunner) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "pipever", "exp", "run", "-S", "train.sleep=30", "-n", "slow"],
                            cwd=proj, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    runs = proj / ".pv/tmp/exp-runs"
    deadline = time.monotonic() + 30
    while not list(runs.glob("*/started")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    assert err.endswith("ERROR: interrupted\n") and "Traceback" not in err, err
    assert no_worktrees(proj) and not git("for-each-ref", "refs/exps")
    pv.ok("exp", "run", "-S", "train.lr=0.3", "-n", "after")


def test_gc_keeps_experiment_data_only_when_asked(proj: Path, pv: PvRunner) -> None:
    from pipever.objects.hashing import hash_bytes

    pv.ok("exp", "run", "-S", "train.lr=0.3", "-n", "fast")
    model = hash_bytes(b"lr=0.3 epochs=3 data=d1").hex
    cached = proj / ".pv/cache/blake3" / model[:2] / model[2:]
    assert cached.is_file()
    pv.ok("gc", "-w", "--all-experiments", "-f")
    assert cached.is_file()
    pv.ok("exp", "apply", "fast")  # its outputs are still in the cache
    assert (proj / "model.bin").read_text() == "lr=0.3 epochs=3 data=d1"
    git("checkout", "-q", "--", ".")
    git("reset", "-q", "--hard")
    pv.ok("checkout", "--force")
    pv.ok("gc", "-w", "-f")  # the workspace alone: the experiment's model goes
    assert not cached.exists()
