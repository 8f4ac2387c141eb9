"""W9 on a Dask cluster: the 8-stage fan-out/fan-in pipeline (stages of ``--stage-s`` seconds,
critical path 4 stages) run with ``pv repro --executor`` on a local ``dask scheduler`` and 4
``dask worker`` processes (one thread each, their own folders), data through a local-folder
remote. The goal: the full repro within critical path + 2 s.

    .venv/bin/python -m benchmarks.executor [--stage-s 1] [--reps 3] [--workers 4]

Timed, each in a fresh ``pv`` process: the full repro (first run: the workers' caches are cold),
a forced full repro (``-f``, warm), the no-op repro and a leaf change (3 stages). Per-stage
overhead is measured in-process from the driver's view (start of a stage to its recorded end,
minus the stage's own sleep), on a forced run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.pipelines import FAN_DEPTH, FAN_WORKERS, LEAF_DEPTH, fan_pipeline
from benchmarks.sandbox import IDENTITY, isolated_env

BIN = Path(sys.executable).parent
BUDGET_S = 2.0


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def cluster(root: Path, workers: int) -> Iterator[str]:
    address = f"tcp://127.0.0.1:{_port()}"
    procs = []
    try:
        procs.append(subprocess.Popen(
            [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
             "--no-dashboard"], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True))
        for i in range(workers):
            folder = root / f"worker{i}"
            folder.mkdir()
            procs.append(subprocess.Popen(
                [str(BIN / "dask"), "worker", address, "--nthreads", "1", "--no-dashboard", "--no-nanny",
                 "--local-directory", str(folder), "--preload", "pipever.executor.worker"],
                cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        from distributed import Client

        with Client(address, timeout=60, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=60)
        yield address
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - t0


def _repo(root: Path, env: dict[str, str], stage_s: float) -> Path:
    repo = root / "repo"
    (repo / "in").mkdir(parents=True)
    pv = str(BIN / "pv")
    subprocess.run(["git", "init", "-q", str(repo)], check=True, env=env)
    subprocess.run([pv, "init", "-q"], cwd=repo, check=True, env=env)
    subprocess.run([pv, "remote", "add", "-d", "store", str(root / "remote")], cwd=repo, check=True, env=env,
                   stdout=subprocess.DEVNULL)
    for leaf in ("prep", *FAN_WORKERS):
        (repo / "in" / f"{leaf}.txt").write_text(f"{leaf}\n")
    (repo / "pv.yaml").write_text(fan_pipeline(stage_s))
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env)
    subprocess.run(["git", "commit", "-qm", "w9"], cwd=repo, check=True, env=env)
    return repo


def per_stage_overhead(repo: Path, address: str, stage_s: float) -> dict[str, float]:
    """Driver-side seconds each stage took beyond its own sleep, on a forced run."""
    from pipever.commands.pipeline.repro import repro
    from pipever.context import RepoContext

    started: dict[str, float] = {}
    took: dict[str, float] = {}

    class Clock:
        def planned(self, names: tuple[str, ...]) -> None: ...

        def started(self, name: str, commands: tuple[str, ...]) -> None:
            started[name] = time.perf_counter()

        def output(self, name: str, text: str, *, stderr: bool) -> None: ...

        def finished(self, name: str, outcome: object, detail: str | None) -> None:
            if name in started:
                took[name] = time.perf_counter() - started[name] - stage_s

    cwd = os.getcwd()
    os.chdir(repo)
    try:
        repro(RepoContext(repo), force=True, jobs=None, executor=address, reporter=Clock())
    finally:
        os.chdir(cwd)
    return took


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stage-s", type=float, default=1.0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--workers", type=int, default=4)
    args = ap.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="pv-bench-executor-"))
    env = {**isolated_env(root / "home"), **IDENTITY}
    (root / "home").mkdir()
    critical = FAN_DEPTH * args.stage_s
    rows: dict[str, list[float]] = {"W9X-full (cold workers)": [], "W9X-forced": [], "W9X-noop": [], "W9X-leaf": []}
    overhead: dict[str, list[float]] = {}
    try:
        with cluster(root, args.workers) as address:
            pv = [str(BIN / "pv"), "repro", "--executor", address]
            for rep in range(args.reps):
                rep_root = root / f"rep{rep}"
                rep_root.mkdir()
                repo = _repo(rep_root, env, args.stage_s)
                if rep == 0:
                    rows["W9X-full (cold workers)"].append(_run(pv, repo, env))
                else:
                    rows["W9X-full (cold workers)"].append(_run([*pv, "-f"], repo, env))
                rows["W9X-forced"].append(_run([*pv, "-f"], repo, env))
                rows["W9X-noop"].append(_run(pv, repo, env))
                (repo / "in" / "w1.txt").write_text("w1 changed\n")
                rows["W9X-leaf"].append(_run(pv, repo, env))
                for name, s in per_stage_overhead(repo, address, args.stage_s).items():
                    overhead.setdefault(name, []).append(s)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    rows["W9X-full"] = rows.pop("W9X-full (cold workers)")
    goals = {"W9X-full": critical + BUDGET_S, "W9X-forced": critical + BUDGET_S,
             "W9X-leaf": LEAF_DEPTH * args.stage_s + BUDGET_S}
    print(f"W9 on {args.workers} Dask workers, stages of {args.stage_s:g} s, critical path {critical:g} s, "
          f"{args.reps} repetitions (median, min-max)")
    ok = True
    for step, times in rows.items():
        med = statistics.median(times)
        goal = goals.get(step)
        verdict = "" if goal is None else (f"  goal <= {goal:g} s: " + ("met" if med <= goal else "MISSED"))
        ok &= goal is None or med <= goal
        print(f"  {step:<12} {med:6.2f} s  ({min(times):.2f}-{max(times):.2f}){verdict}")
    print("per-stage overhead (driver's view: stage start to recorded end, minus the stage's sleep):")
    for name, values in overhead.items():
        print(f"  {name:<8} {statistics.median(values):.3f} s")
    all_values = [v for vs in overhead.values() for v in vs]
    print(f"  median over stages {statistics.median(all_values):.3f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
