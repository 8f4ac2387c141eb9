"""A real Dask cluster for the executor tests: one ``dask scheduler`` and N ``dask worker``
processes on 127.0.0.1, each worker in a folder of its own (its cwd and local directory), no
dashboard. Started once per test module, always torn down (SIGTERM, then SIGKILL)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    address: str
    root: Path
    scheduler: subprocess.Popen[bytes]
    workers: dict[Path, subprocess.Popen[bytes]] = field(default_factory=dict)  # folder -> process

    def add_worker(self, name: str, *, nthreads: int = 2) -> Path:
        folder = self.root / name
        folder.mkdir()
        log = open(folder.with_suffix(".log"), "wb")  # noqa: SIM115 - closed with the process's end
        self.workers[folder] = subprocess.Popen(
            [str(BIN / "dask"), "worker", self.address, "--nthreads", str(nthreads), "--no-dashboard",
             "--no-nanny", "--local-directory", str(folder), "--name", name,
             "--preload", "pipever.executor.worker"],
            cwd=folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        return folder

    def wait_for_workers(self, n: int) -> None:
        from distributed import Client

        with Client(self.address, timeout=START_TIMEOUT_S, set_as_default=False) as client:
            client.wait_for_workers(n, timeout=START_TIMEOUT_S)

    def worker_of(self, path: str) -> Path | None:
        """The worker folder a path lies in (where a stage ran)."""
        for folder in self.workers:
            if path.startswith(str(folder) + os.sep):
                return folder
        return None

    def kill(self, folder: Path) -> None:
        proc = self.workers.pop(folder)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self) -> None:
        procs = [*self.workers.values(), self.scheduler]
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for p in procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)


@contextlib.contextmanager
def running_cluster(root: Path, *, workers: int = 2, nthreads: int = 2) -> Iterator[Cluster]:
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    sched_dir = root / "scheduler"
    sched_dir.mkdir(parents=True)
    log = open(root / "scheduler.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        cwd=sched_dir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    cluster = Cluster(address, root, proc)
    try:
        for i in range(workers):
            cluster.add_worker(f"w{i}", nthreads=nthreads)
        cluster.wait_for_workers(workers)
        yield cluster
    finally:
        cluster.stop()
        log.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    pytest.importorskip("distributed")
    with running_cluster(tmp_path_factory.mktemp("cluster")) as c:
        yield c
