"""kill -9 at every point where pv changes a file, and nothing is lost (issue 6, guarantee 1).

A ``sitecustomize`` shim (``shim/``) counts the calls a ``pv`` child process makes that change
files and SIGKILLs the process just before or just after the N-th one (a kill before a write or
copy leaves it half done). For each scenario the count is measured on a normal run, then every
point is tried on a fresh copy of the same repository (a seeded sample of them in the default
run; ``PV_RELIABILITY_FULL=1``, i.e. ``make test-reliability-full``, tries them all). After each
kill:

- every file of the work tree (pointers, ``pv.lock``, ``.gitignore``, config and data) is its old
  or its new version: never truncated, never gone;
- every object in the cache (and on the remote) hashes to its name;
- rerunning the command succeeds, and leaves exactly what an uninterrupted run leaves: the same
  files, the same Git index, the same objects, and no temp files in the work tree.
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

from tests.helpers import PvRunner, gen, git, git_commit
from tests.reliability import harness as h

Setup = Callable[[Path, PvRunner], None]


@dataclass(frozen=True)
class Scenario:
    name: str
    setup: Setup  # builds ``base/repo`` (cwd) and, for remotes, ``base/remote``
    args: tuple[str, ...]
    budget: int = 10  # kill points tried in the default run
    # commands whose results are valid states too (a pipeline records each stage as it ends)
    steps: tuple[tuple[str, ...], ...] = ()
    # stage outputs are deleted before a stage runs (or is restored): they may be gone after a
    # kill as long as their old content is in the cache
    outputs_may_go: bool = False
    # files that the stage commands themselves write (with ``cp``, ``>``): a kill of pv while one
    # runs kills it too (pv's stage guard), which may leave such a file cut short
    commands_write: tuple[str, ...] = ()


def data(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def tree(version: int) -> dict[str, object]:
    """A directory with nested files; version 2 changes two, drops one and adds two."""
    files: dict[str, object] = {
        "a.csv": data(1, 5000), "b.csv": data(2, 3000),
        "sub": {"c.bin": data(3, 20000), "d.txt": "same in both\n", "deep": {"e.txt": "e\n"}},
        "run.sh": "#!/bin/sh\necho hi\n",
    }
    if version == 2:
        files["a.csv"] = data(11, 5100)
        files["sub"] = {"c.bin": data(13, 19000), "d.txt": "same in both\n", "new.txt": "n\n"}
        files["z.bin"] = data(14, 7000)
    return files


def _exec_bit(root: Path) -> None:
    (root / "data/run.sh").chmod(0o755)


def two_versions(root: Path, pv: PvRunner) -> None:
    """``file.bin`` and ``data/`` committed at tags v1 and v2, both in the cache; at v2."""
    gen({"file.bin": data(20, 40000), "data": tree(1)}, root)
    _exec_bit(root)
    pv.ok("add", "file.bin", "data", cwd=root)
    git_commit("v1", cwd=root)
    git("tag", "v1", cwd=root)
    h.make_writable_tree(root / "data")
    shutil.rmtree(root / "data")  # never write through a link into the cache
    (root / "file.bin").unlink()
    gen({"file.bin": data(21, 41000), "data": tree(2)}, root)
    _exec_bit(root)
    pv.ok("add", "file.bin", "data", cwd=root)
    git_commit("v2", cwd=root)
    git("tag", "v2", cwd=root)


# -- scenarios ----------------------------------------------------------------------------------
def s_add_file(root: Path, pv: PvRunner) -> None:
    gen({"file.bin": data(30, 300_000)}, root)


def s_readd_file(root: Path, pv: PvRunner) -> None:
    gen({"file.bin": data(30, 300_000)}, root)
    pv.ok("add", "file.bin", cwd=root)
    git_commit("track", cwd=root)
    (root / "file.bin").write_bytes(data(31, 250_000))


def s_add_dir(root: Path, pv: PvRunner) -> None:
    gen({"data": tree(1)}, root)
    _exec_bit(root)


def s_readd_dir(root: Path, pv: PvRunner) -> None:
    s_add_dir(root, pv)
    pv.ok("add", "data", cwd=root)
    git_commit("track", cwd=root)
    shutil.rmtree(root / "data")
    gen({"data": tree(2)}, root)
    _exec_bit(root)


def s_commit(root: Path, pv: PvRunner) -> None:
    gen({"file.bin": data(30, 30_000), "data": tree(1)}, root)
    pv.ok("add", "file.bin", "data", cwd=root)
    git_commit("track", cwd=root)
    shutil.rmtree(root / "data")
    gen({"file.bin": data(32, 31_000), "data": tree(2)}, root)


def s_checkout_restore(root: Path, pv: PvRunner) -> None:
    two_versions(root, pv)
    shutil.rmtree(root / "data")
    (root / "file.bin").unlink()


def s_checkout_switch(root: Path, pv: PvRunner) -> None:
    two_versions(root, pv)
    git("checkout", "-q", "v1", cwd=root)


def s_checkout_switch_hardlink(root: Path, pv: PvRunner) -> None:
    two_versions(root, pv)
    pv.ok("config", "--local", "cache.type", "hardlink,copy", cwd=root)
    git("checkout", "-q", "v1", cwd=root)


def s_checkout_switch_symlink(root: Path, pv: PvRunner) -> None:
    # set after the setup: the copies of the repository this test makes keep absolute symlinks
    # into the cache of the repository they were copied from
    two_versions(root, pv)
    pv.ok("config", "--local", "cache.type", "symlink", cwd=root)
    git("checkout", "-q", "v1", cwd=root)


def _with_remote(root: Path, pv: PvRunner) -> None:
    pv.ok("remote", "add", "-d", "storage", "../remote", cwd=root)
    git_commit("remote", cwd=root)


def s_push(root: Path, pv: PvRunner) -> None:
    two_versions(root, pv)
    _with_remote(root, pv)


def s_fetch(root: Path, pv: PvRunner) -> None:
    two_versions(root, pv)
    _with_remote(root, pv)
    pv.ok("push", cwd=root)
    shutil.rmtree(root / ".pv/cache")


def s_pull(root: Path, pv: PvRunner) -> None:
    s_fetch(root, pv)
    git("checkout", "-q", "v1", cwd=root)
    pv("checkout", cwd=root)  # objects are missing: leaves v2's data in place
    h.make_writable_tree(root / "data")
    shutil.rmtree(root / "data")
    git("checkout", "-q", "main", cwd=root)


def s_gc(root: Path, pv: PvRunner) -> None:
    two_versions(root, pv)
    gen({"scratch.bin": data(40, 9000)}, root)
    pv.ok("add", "scratch.bin", cwd=root)
    pv.ok("remove", "scratch.bin.pv", cwd=root)


PIPELINE = """\
stages:
  prepare:
    cmd: mkdir -p prepared && cp file.bin prepared/a && cp params.yaml prepared/b && echo ${seed} > prepared/seed
    deps: [file.bin]
    params: [seed]
    outs: [prepared]
  train:
    cmd: cat prepared/a prepared/seed > model.bin && echo '{"acc":0.9}' > metrics.json
    deps: [prepared]
    outs: [model.bin]
    metrics: [{metrics.json: {cache: false}}]
"""


def s_repro(root: Path, pv: PvRunner) -> None:
    gen({"file.bin": data(50, 20000), "pv.yaml": PIPELINE, "params.yaml": "seed: 1\n"}, root)
    pv.ok("add", "file.bin", cwd=root)
    git_commit("pipeline", cwd=root)


def s_repro_from_run_cache(root: Path, pv: PvRunner) -> None:
    s_repro(root, pv)
    pv.ok("repro", cwd=root)
    git_commit("seed 1", cwd=root)
    (root / "params.yaml").write_text("seed: 2\n")
    pv.ok("repro", cwd=root)
    git_commit("seed 2", cwd=root)
    (root / "params.yaml").write_text("seed: 1\n")  # back: outputs come from the run cache


SCENARIOS = [
    Scenario("add-file", s_add_file, ("add", "file.bin")),
    Scenario("re-add-file", s_readd_file, ("add", "file.bin")),
    Scenario("add-dir", s_add_dir, ("add", "data"), budget=10),
    Scenario("re-add-dir", s_readd_dir, ("add", "data"), budget=10),
    Scenario("commit", s_commit, ("commit",), budget=10),
    Scenario("checkout-restore", s_checkout_restore, ("checkout",), budget=10),
    Scenario("checkout-switch", s_checkout_switch, ("checkout",), budget=10),
    Scenario("checkout-switch-hardlink", s_checkout_switch_hardlink, ("checkout",), budget=8),
    Scenario("checkout-switch-symlink", s_checkout_switch_symlink, ("checkout",), budget=8),
    Scenario("push", s_push, ("push",), budget=10),
    Scenario("fetch", s_fetch, ("fetch",), budget=10),
    Scenario("pull", s_pull, ("pull",), budget=10),
    Scenario("gc", s_gc, ("gc", "-w", "-f"), budget=10),
    Scenario("repro", s_repro, ("repro",), budget=10, steps=(("repro", "prepare"),), outputs_may_go=True,
             commands_write=("prepared", "model.bin", "metrics.json")),
    Scenario("repro-from-run-cache", s_repro_from_run_cache, ("repro",), budget=10, steps=(("repro", "prepare"),),
             outputs_may_go=True),
]


def pick(total: int, budget: int, seed: str) -> list[int]:
    """Every point in the full run; else the first and last few and a seeded sample between."""
    points = list(range(1, total + 1))
    if h.FULL or total <= budget:
        return points
    ends = points[:3] + points[-3:]
    middle = points[3:-3]
    return sorted(ends + random.Random(seed).sample(middle, min(len(middle), budget - len(ends))))


@dataclass
class Reference:
    before: h.Snapshot
    after: h.Snapshot
    steps: list[h.Snapshot]
    index: str
    cache: set[str]
    remote: set[str]
    calls: list[str]


def reference(base: Path, work: Path, scenario: Scenario) -> Reference:
    ref = work / "reference"
    shutil.copytree(base, ref, symlinks=True)
    count_file = work / "count"
    res = h.run_pv(scenario.args, ref / "repo", shim=True, env={"PV_KILL_COUNT_FILE": str(count_file)})
    assert res.returncode == 0, res
    lines = count_file.read_text().splitlines()
    assert int(lines[0]) == len(lines) - 1 > 0
    steps = []
    for i, args in enumerate(scenario.steps):
        partial = work / f"step{i}"
        shutil.copytree(base, partial, symlinks=True)
        assert h.run_pv(args, partial / "repo").returncode == 0
        steps.append(h.snapshot(partial / "repo"))
        shutil.rmtree(partial)
    return Reference(
        before=h.snapshot(base / "repo"), after=h.snapshot(ref / "repo"), steps=steps, index=h.git_index(ref / "repo"),
        cache=h.objects(ref / "repo/.pv/cache"), remote=h.objects(ref / "remote"), calls=lines[1:],
    )


def check_point(base: Path, work: Path, scenario: Scenario, ref: Reference, point: int, pv: PvRunner) -> list[str]:
    """Kill at ``point`` and check the guarantees; returns the problems found."""
    call = ref.calls[(point - 1) // 2] if (point - 1) // 2 < len(ref.calls) else "?"
    where = f"{scenario.name} point {point} ({'before' if point % 2 else 'after'} {call})"

    def kill(repo: Path) -> h.Child:
        return h.run_pv(scenario.args, repo, shim=True, env={"PV_KILL_AT": str(point)})

    return check_kill(base, work / f"p{point}", scenario, ref, kill, where, pv)


def check_kill(
    base: Path, copy: Path, scenario: Scenario, ref: Reference, kill: Callable[[Path], h.Child], where: str,
    pv: PvRunner,
) -> list[str]:
    """Run ``kill`` on a fresh copy of ``base`` and check the guarantees; the problems found."""
    shutil.copytree(base, copy, symlinks=True)
    repo = copy / "repo"
    killed = kill(repo)
    problems = []
    if killed.returncode not in (h.KILLED, 0):
        problems.append(f"{where}: exited {killed.returncode} instead of dying: {killed.stderr[-500:]}")
    cached = (lambda content: h.in_cache(repo / ".pv/cache", content)) if scenario.outputs_may_go else None
    versions = [ref.before, *ref.steps, ref.after]
    def by_command(path: str) -> bool:
        return any(path == w or path.startswith(f"{w}/") for w in scenario.commands_write)

    problems += [f"{where}: after the kill, {p}"
                 for p in h.between(h.snapshot(repo), versions, recoverable=cached, cut_short=by_command)]
    problems += [f"{where}: corrupt cache object {o}" for o in h.bad_objects(repo / ".pv/cache")]
    problems += [f"{where}: corrupt remote object {o}" for o in h.bad_objects(copy / "remote")]
    again = pv(*scenario.args, cwd=repo)
    if again.exit_code != 0:
        return [*problems, f"{where}: the rerun failed: {again.stderr.strip()}"]
    after = h.snapshot(repo)
    if after != ref.after:
        diff = sorted(k for k in set(after) | set(ref.after) if after.get(k) != ref.after.get(k))
        problems.append(f"{where}: after the rerun these differ from a clean run: {diff}")
    if h.git_index(repo) != ref.index:
        problems.append(f"{where}: after the rerun the Git index differs from a clean run")
    if h.objects(repo / ".pv/cache") != ref.cache:
        lost = ref.cache - h.objects(repo / ".pv/cache")
        problems.append(f"{where}: after the rerun the cache differs from a clean run (lost: {sorted(lost)})")
    if h.objects(copy / "remote") != ref.remote:
        problems.append(f"{where}: after the rerun the remote differs from a clean run")
    problems += [f"{where}: after the rerun, corrupt cache object {o}" for o in h.bad_objects(repo / ".pv/cache")]
    problems += [f"{where}: temp file left in the work tree after the rerun: {t}" for t in h.tmp_leftovers(repo)]
    shutil.rmtree(copy, ignore_errors=True)
    return problems


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_kill_at_any_point_loses_nothing(
    scenario: Scenario, tmp_path: Path, pv_repo: Path, pv: PvRunner, record_property: Callable[[str, object], None],
) -> None:
    base = h.make_base(tmp_path, pv_repo)
    scenario.setup(base / "repo", pv)
    ref = reference(base, tmp_path, scenario)
    points = pick(2 * len(ref.calls), scenario.budget, scenario.name)
    problems: list[str] = []
    for point in points:
        problems += check_point(base, tmp_path, scenario, ref, point, pv)
    record_property("kill_points", len(points))
    record_property("kill_points_total", 2 * len(ref.calls))
    h.report("kill points", len(points), problems)


# -- seeded random kills: SIGKILL at a random moment, not at a counted call ------------------------------
RANDOM_KILLS = 16 if h.FULL else 2


def s_add_many(root: Path, pv: PvRunner) -> None:
    rng = random.Random(60)
    for i in range(300):
        gen({f"data/d{i % 9}/f{i}": rng.randbytes(3000)}, root)


def s_checkout_many(root: Path, pv: PvRunner) -> None:
    s_add_many(root, pv)
    h.tracked_then_removed(root, pv)


def s_pull_many(root: Path, pv: PvRunner) -> None:
    s_checkout_many(root, pv)
    _with_remote(root, pv)
    pv.ok("push", cwd=root)
    shutil.rmtree(root / ".pv/cache")


TIMED = [
    Scenario("add", s_add_many, ("add", "data")),
    Scenario("checkout", s_checkout_many, ("checkout",)),
    Scenario("pull", s_pull_many, ("pull",)),
]


def timed_kill(args: tuple[str, ...], repo: Path, delay: float | None) -> tuple[h.Child, float]:
    """Run ``pv ARGS``; SIGKILL it ``delay`` seconds after it took the repo lock (None: never).
    Returns the result and how long it held the lock."""
    proc = subprocess.Popen([sys.executable, "-m", "pipever", *args], cwd=repo, env=h.child_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    info = repo / ".pv/tmp/lock.info"
    deadline = time.monotonic() + 60
    while not info.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    locked = time.monotonic()
    if delay is not None:
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate()
    held = time.monotonic() - locked
    h.wait_group_gone(proc.pid)
    return h.Child(proc.returncode, out, err), held


@pytest.mark.parametrize("scenario", TIMED, ids=[s.name for s in TIMED])
def test_seeded_random_kills_lose_nothing(scenario: Scenario, tmp_path: Path, pv_repo: Path, pv: PvRunner) -> None:
    base = h.make_base(tmp_path, pv_repo)
    scenario.setup(base / "repo", pv)
    ref = reference(base, tmp_path, scenario)
    timing = tmp_path / "timing"
    shutil.copytree(base, timing, symlinks=True)
    done, span = timed_kill(scenario.args, timing / "repo", None)
    assert done.returncode == 0, done
    rng = random.Random(f"{scenario.name}-kills")
    problems: list[str] = []
    for i in range(RANDOM_KILLS):
        delay = rng.uniform(0, span)
        where = f"{scenario.name} random kill {i} after {delay:.3f}s of {span:.3f}s"
        problems += check_kill(base, tmp_path / f"r{i}", scenario, ref,
                               lambda repo: timed_kill(scenario.args, repo, delay)[0], where, pv)
    h.report("random kills", RANDOM_KILLS, problems)
