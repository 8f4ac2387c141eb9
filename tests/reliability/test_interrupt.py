"""Ctrl-C in a long command: exit 130, temp files cleaned, lock released, the next command works
(issue 6, guarantee 8).

A real SIGINT is sent to a real ``pv`` process while it is in the middle of its work: the shim's
``PV_DELAY_EACH`` slows every file write down so that there is a middle to hit. Signals arrive
on the main thread while worker threads copy (``concurrency.thread_map`` defers them to a safe
point) or while a stage command runs (``pv repro`` stops its process group).
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import PvRunner, gen, git_commit
from tests.reliability import harness as h

TRIES = 6 if h.FULL else 1  # interrupt points per command (later and later)


def files(n: int, seed: int, size: int = 2000) -> dict[str, object]:
    rng = random.Random(seed)
    tree: dict[str, dict[str, object]] = {}
    for i in range(n):
        tree.setdefault(f"d{i % 8}", {})[f"f{i}"] = rng.randbytes(size)
    return dict(tree)


@dataclass(frozen=True)
class Case:
    name: str
    setup: Callable[[Path, PvRunner], None]
    args: tuple[str, ...]
    delay: float = 0.02  # seconds the shim sleeps before each file write


MANY = 1200  # files: over bulk.FORK_MIN, so the batched loops run in forked workers


def c_add(root: Path, pv: PvRunner) -> None:
    gen({"data": files(120, 1)}, root)


def c_add_many(root: Path, pv: PvRunner) -> None:
    gen({"data": files(MANY, 4, size=300)}, root)


def c_checkout_many(root: Path, pv: PvRunner) -> None:
    c_add_many(root, pv)
    h.tracked_then_removed(root, pv)


def c_pull_many(root: Path, pv: PvRunner) -> None:
    """Over 4 MiB in over 1024 objects: a local remote's ranges go to forked workers."""
    gen({"data": files(MANY, 5, size=4000)}, root)
    pv.ok("add", "data", cwd=root)
    pv.ok("remote", "add", "-d", "storage", "../remote", cwd=root)
    git_commit("data", cwd=root)
    pv.ok("push", cwd=root)
    shutil.rmtree(root / ".pv/cache")
    shutil.rmtree(root / "data")


def _tracked(root: Path, pv: PvRunner) -> None:
    gen({"data": files(120, 2), "big.bin": random.Random(3).randbytes(1 << 20)}, root)
    pv.ok("add", "data", "big.bin", cwd=root)
    pv.ok("remote", "add", "-d", "storage", "../remote", cwd=root)
    git_commit("data", cwd=root)


def c_checkout(root: Path, pv: PvRunner) -> None:
    _tracked(root, pv)
    shutil.rmtree(root / "data")


def c_push(root: Path, pv: PvRunner) -> None:
    _tracked(root, pv)


def c_fetch(root: Path, pv: PvRunner) -> None:
    _tracked(root, pv)
    pv.ok("push", cwd=root)
    shutil.rmtree(root / ".pv/cache")


def c_pull(root: Path, pv: PvRunner) -> None:
    c_fetch(root, pv)
    shutil.rmtree(root / "data")


def c_repro(root: Path, pv: PvRunner) -> None:
    gen({"in.txt": "i\n", "pv.yaml": (
        "stages:\n  slow:\n    cmd: test -f fast || sleep 60; mkdir -p out && cp in.txt out/a\n"
        "    deps: [in.txt]\n    outs: [out]\n")}, root)
    git_commit("pipeline", cwd=root)


CASES = [
    Case("add", c_add, ("add", "data")),
    Case("add-many", c_add_many, ("add", "data"), delay=0.002),
    Case("checkout-many", c_checkout_many, ("checkout",), delay=0.002),
    Case("checkout", c_checkout, ("checkout",)),
    Case("push", c_push, ("push",)),
    Case("fetch", c_fetch, ("fetch",)),
    Case("pull", c_pull, ("pull",)),
    Case("pull-many", c_pull_many, ("pull",), delay=0.002),
    Case("repro", c_repro, ("repro",)),
]


def start(repo: Path, args: tuple[str, ...], delay: float = 0.02) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pipever", *args], cwd=repo, env=h.child_env({"PV_DELAY_EACH": str(delay)}, shim=True),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_locked(repo: Path, proc: subprocess.Popen[str]) -> float:
    info = repo / ".pv/tmp/lock.info"
    deadline = time.monotonic() + 60
    while not info.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    return time.monotonic()


def duration(base: Path, work: Path, args: tuple[str, ...], delay: float = 0.02) -> float:
    """How long the (slowed-down) command holds the lock when nobody interrupts it."""
    shutil.copytree(base, work, symlinks=True)
    proc = start(work / "repo", args, delay)
    locked = wait_locked(work / "repo", proc)
    proc.communicate(timeout=300)
    return time.monotonic() - locked


def interrupt(repo: Path, args: tuple[str, ...], after: float, delay: float = 0.02) -> subprocess.CompletedProcess[str]:
    proc = start(repo, args, delay)
    wait_locked(repo, proc)
    time.sleep(after)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_ctrl_c_exits_130_and_leaves_a_usable_repo(case: Case, tmp_path: Path, pv_repo: Path, pv: PvRunner) -> None:
    base = h.make_base(tmp_path, pv_repo)
    case.setup(base / "repo", pv)
    span = 2.0 if case.name == "repro" else duration(base, tmp_path / "timing", case.args, case.delay)
    for i in range(TRIES):
        copy = tmp_path / f"try{i}"
        shutil.copytree(base, copy, symlinks=True)
        repo = copy / "repo"
        res = interrupt(repo, case.args, after=span * (i + 1) / (TRIES + 2), delay=case.delay)
        assert res.returncode == 130, (case.name, i, res)
        assert res.stderr.endswith("ERROR: interrupted\n") and "Traceback" not in res.stderr, res
        assert h.tmp_leftovers(repo, include_pv=True) == [], "temp files left behind"
        assert h.tmp_leftovers(copy / "remote", include_pv=True) == [], "temp files left on the remote"
        assert not (repo / ".pv/tmp/lock.info").exists(), "the lock was not released"
        assert h.bad_objects(repo / ".pv/cache") == [] and h.bad_objects(copy / "remote") == []
        if case.name == "repro":
            assert "slow" not in (repo / "pv.lock").read_text() if (repo / "pv.lock").exists() else True
            (repo / "fast").write_text("")
        pv.ok(*case.args, cwd=repo)  # the next command works, and completes the job
        assert pv.ok("status", cwd=repo).stdout == "Data and pipelines are up to date.\n"
        assert pv.ok("fsck", cwd=repo).stdout.startswith("Checked ")
        if case.name == "push":
            assert pv.ok("status", "-c", cwd=repo).stdout.startswith("Cache and remote 'storage' are in sync")
        shutil.rmtree(copy)
