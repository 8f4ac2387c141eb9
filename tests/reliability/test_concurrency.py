"""Two pv processes never corrupt each other (issue 6, guarantee 5).

Real ``pv`` processes, slowed down where a test needs one to hold the repo lock for a while (the
shim's ``PV_DELAY_EACH`` sleeps before every file write): a second writer is refused within 3 s
naming the holder, or waits with ``--wait``; a killed holder's lock is taken over; several
writers with ``--wait`` all succeed; clones pushing the same objects to one remote at once (a
local folder and S3) all succeed and every object on the remote hashes to its name.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import PvRunner, gen, git, git_commit
from tests.reliability import harness as h
from tests.s3server import RemoteCase

ROUNDS = 8 if h.FULL else 2


def spawn(args: list[str], cwd: Path, *, delay: float = 0.0, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    extra = dict(env or {})
    if delay:
        extra["PV_DELAY_EACH"] = str(delay)
    return subprocess.Popen(
        [sys.executable, "-m", "pipever", *args], cwd=cwd, env=h.child_env(extra, shim=bool(delay)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_for_lock(repo: Path, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    info = repo / ".pv/tmp/lock.info"
    deadline = time.monotonic() + timeout
    while not info.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the holder never took the lock"
        time.sleep(0.01)


def many_files(n: int, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    tree: dict[str, dict[str, object]] = {}
    for i in range(n):
        tree.setdefault(f"d{i % 10}", {})[f"f{i}.bin"] = rng.randbytes(64) + str(i).encode()
    return dict(tree)


def assert_repo_sound(repo: Path, pv: PvRunner) -> None:
    assert h.bad_objects(repo / ".pv/cache") == []
    assert pv.ok("fsck", cwd=repo).stdout.startswith("Checked ")
    assert pv.ok("status", cwd=repo).stdout == "Data and pipelines are up to date.\n"


def test_second_writer_is_refused_within_3s_naming_the_holder_or_waits(pv_repo: Path, pv: PvRunner) -> None:
    gen({"big": many_files(60, 1), "small": "s\n", "other": "o\n"})
    holder = spawn(["add", "big"], pv_repo, delay=0.1)  # ~130 writes: holds the lock for seconds
    wait_for_lock(pv_repo, holder)
    start = time.monotonic()
    second = h.run_pv(["add", "small"], pv_repo)
    took = time.monotonic() - start
    assert holder.poll() is None, "the holder finished before the second writer gave up: slow it down"
    assert second.returncode == 1 and took < 3.0, (took, second)
    assert second.stderr == (f"ERROR: the repository is locked by process {holder.pid} ('pv add big') — wait for it "
                             "to finish, or rerun with --wait\n")
    waiter = h.run_pv(["--wait", "add", "other"], pv_repo)
    assert waiter.returncode == 0, waiter
    assert holder.wait(timeout=120) == 0, holder.communicate()
    pv.ok("add", "small")
    assert_repo_sound(pv_repo, pv)
    staged = git("diff", "--cached", "--name-only")
    assert {"big.pv", "other.pv", "small.pv"} <= set(staged.split())
    h.stat("concurrent runs", 3)


def test_writers_with_wait_all_succeed_and_corrupt_nothing(pv_repo: Path, pv: PvRunner) -> None:
    n = 4
    gen({f"dir{k}": many_files(40, k) for k in range(n)})
    procs = [spawn(["--wait", "add", f"dir{k}"], pv_repo, delay=0.005) for k in range(n)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    assert_repo_sound(pv_repo, pv)
    assert sorted(git("diff", "--cached", "--name-only").split()) == sorted(
        [".gitignore", *(f"dir{k}.pv" for k in range(n))])
    h.stat("concurrent runs", n)


def test_lock_of_a_killed_pv_is_taken_over_and_its_leftovers_cleaned(pv_repo: Path, pv: PvRunner) -> None:
    gen({"big": many_files(60, 2), "small": "s\n"})
    holder = spawn(["add", "big"], pv_repo, delay=0.05)
    wait_for_lock(pv_repo, holder)
    time.sleep(0.5)  # in the middle of copying files into the cache
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    start = time.monotonic()
    pv.ok("add", "small")
    assert time.monotonic() - start < 2.0
    assert h.tmp_leftovers(pv_repo) == []
    pv.ok("add", "big")
    assert_repo_sound(pv_repo, pv)
    h.stat("concurrent runs", 2)


def test_repos_sharing_a_cache_add_the_same_files_at_once(tmp_path: Path, pv_repo: Path, pv: PvRunner) -> None:
    shared = tmp_path / "shared-cache"
    clones = []
    for name in ("a", "b", "c"):
        clone = tmp_path / name
        shutil.copytree(pv_repo, clone, symlinks=True)
        gen({"data": many_files(150, 7)}, clone)
        clones.append(clone)
    for _ in range(ROUNDS):
        procs = [spawn(["add", "data"], c, env={"PV_CACHE_DIR": str(shared)}) for c in clones]
        for p in procs:
            assert p.wait(timeout=300) == 0, p.communicate()
        assert h.bad_objects(shared) == []
        texts = {(c / "data.pv").read_text() for c in clones}
        assert len(texts) == 1
        shutil.rmtree(shared)
    h.stat("concurrent runs", ROUNDS * len(clones))


# -- pushing from two clones at once ----------------------------------------------------------------
def remote_objects_sound(case: RemoteCase) -> list[str]:
    return case.unsound()


def test_two_clones_push_the_same_objects_at_once(
    remote: RemoteCase, pv_repo: Path, pv: PvRunner, tmp_path: Path,
) -> None:
    n = 120 if remote.kind == "local" else 40  # moto is slow
    gen({"data": many_files(n, 3), "big.bin": random.Random(4).randbytes(3 << 20)})
    pv.ok("add", "data", "big.bin")
    git_commit("data")
    clones = []
    for name in ("a", "b"):
        clone = tmp_path / name
        git("clone", "-q", str(pv_repo), str(clone))
        shutil.copytree(pv_repo / ".pv/cache", clone / ".pv/cache")
        remote.configure(pv, cwd=clone)
        clones.append(clone)
    for i in range(ROUNDS):
        procs = [spawn(["push"], c) for c in clones]
        results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
        for code, out, err in results:
            assert code == 0, err
            assert out.endswith(("pushed\n", "Everything is up to date.\n")), out
        assert remote_objects_sound(remote) == []
        assert len(remote.stored()) == n + 1 + 1
        if i + 1 < ROUNDS:
            for rel in remote.objects():
                remote.delete(rel)
    for clone in clones:  # what is there is complete: each clone can fetch everything back
        shutil.rmtree(clone / ".pv/cache")
        pv.ok("pull", "--force", cwd=clone)
        assert_repo_sound(clone, pv)
    h.stat("concurrent runs", ROUNDS * len(clones))
