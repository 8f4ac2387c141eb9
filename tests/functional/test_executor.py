"""pv repro --executor: stages run on a real Dask cluster (scheduler and worker processes on
127.0.0.1, each worker in a folder of its own), with the data moving through the remote."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.dask_cluster import Cluster, cluster, free_port  # noqa: F401 - the module's cluster fixture
from tests.helpers import PvRunner, gen, git

PIPELINE = """\
stages:
  a:
    cmd: echo "start $(date +%s.%N)" > a.txt; sleep 1; pwd >> a.txt; cat in_a.txt >> a.txt; echo "end $(date +%s.%N)" >> a.txt
    deps: [in_a.txt]
    outs: [a.txt]
  b:
    cmd: echo "start $(date +%s.%N)" > b.txt; sleep 1; pwd >> b.txt; sh helper.sh >> b.txt; echo "end $(date +%s.%N)" >> b.txt
    deps: [in_b.txt]
    outs: [b.txt]
  c:
    cmd: cat a.txt b.txt > c.txt
    deps: [a.txt, b.txt]
    outs: [c.txt]
"""


@pytest.fixture
def project(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> Path:
    """in_a.txt tracked by pv, in_b.txt and helper.sh (undeclared, read by stage b) by Git."""
    pv.ok("remote", "add", "-d", "store", str(tmp_path / "remote"))
    gen({"pv.yaml": PIPELINE, "in_a.txt": "data a\n", "in_b.txt": "data b\n", "helper.sh": "echo helper v1\n"})
    pv.ok("add", "in_a.txt")
    git("add", "-A")
    git("commit", "-qm", "pipeline")
    return pv_repo


def stamps(text: str) -> tuple[float, float]:
    lines = text.splitlines()
    return float(lines[0].split()[1]), float(lines[-1].split()[1])


def ran(res_stdout: str) -> set[str]:
    return {line.split("'")[1] for line in res_stdout.splitlines() if "Running stage '" in line}


def test_stages_run_on_workers_in_parallel_and_are_recorded(project: Path, pv: PvRunner, cluster: Cluster) -> None:
    (project / "helper.sh").write_text("echo helper v2 uncommitted\n")  # the tree has uncommitted edits
    res = pv.ok("repro", "--executor", cluster.address)
    assert ran(res.stdout) == {"a", "b", "c"}
    a, b = (project / "a.txt").read_text(), (project / "b.txt").read_text()
    for text in (a, b):  # run in a worker's own scratch folder, not in the workspace
        cwd = text.splitlines()[1]
        assert cluster.worker_of(cwd) is not None, text
        assert not cwd.startswith(str(project))
    assert "data a\n" in a  # the pv-tracked dep came by oid
    assert "helper v2 uncommitted\n" in b  # the Git-tracked file, as in the work tree
    (a0, a1), (b0, b1) = stamps(a), stamps(b)
    assert a0 < b1 and b0 < a1, (a, b)  # independent stages overlapped
    assert (project / "c.txt").read_text() == a + b
    lock = (project / "pv.lock").read_text()
    assert all(f"  {n}:\n    cmd:" in lock for n in "abc")

    again = pv.ok("repro", "--executor", cluster.address)
    assert ran(again.stdout) == set()
    assert "Data and pipelines are up to date." in again.stdout

    (project / "in_b.txt").write_text("data b changed\n")
    third = pv.ok("repro", "--executor", cluster.address)
    assert ran(third.stdout) == {"b", "c"}
    assert (project / "a.txt").read_text() == a
    assert (project / "b.txt").read_text() != b
    assert pv.ok("status").stdout.strip().endswith("Data and pipelines are up to date.")


def test_failing_stage_reports_code_and_tail_and_keep_going_runs_the_rest(
    project: Path, pv: PvRunner, cluster: Cluster,
) -> None:
    gen({"pv.yaml": PIPELINE.replace('cmd: echo "start $(date +%s.%N)" > a.txt', 'cmd: echo boom-from-a; exit 3; echo "start $(date +%s.%N)" > a.txt')})
    res = pv("repro", "-k", "--executor", cluster.address)
    assert res.exit_code == 1, res
    assert "ERROR: failed to reproduce 'a': command 'echo boom-from-a; exit 3;" in res.stderr
    assert "exited with code 3 on tcp://127.0.0.1:" in res.stderr
    assert "[a] boom-from-a" in res.stdout + res.stderr  # the output tail
    assert (project / "b.txt").exists()  # -k: the independent branch went on
    lock = (project / "pv.lock").read_text()
    assert "  b:\n" in lock and "  a:\n" not in lock and "  c:\n" not in lock
    assert not (project / "a.txt").exists()


def test_unreachable_scheduler_is_a_clear_error(project: Path, pv: PvRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PV_EXECUTOR_CONNECT_TIMEOUT", "1")
    address = f"tcp://127.0.0.1:{free_port()}"
    res = pv("repro", "--executor", address)
    assert res.exit_code == 1, res
    assert res.stderr.startswith(f"ERROR: cannot reach the Dask scheduler at '{address}'")
    assert "'dask scheduler'" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (project / "pv.lock").exists()


def test_committed_executor_address_is_ignored_with_a_warning(project: Path, pv: PvRunner) -> None:
    with open(project / ".pv" / "config.yaml", "a") as f:
        f.write("executor:\n  address: tcp://203.0.113.9:8786\n")
    res = pv.ok("repro")  # runs here, never at the committed address
    assert "executor.address in the committed .pv/config.yaml ignored" in res.stderr
    assert str(project) in (project / "a.txt").read_text()


def test_executor_address_from_local_config(project: Path, pv: PvRunner, cluster: Cluster) -> None:
    pv.ok("config", "--local", "executor.address", cluster.address)
    pv.ok("repro", "a")
    cwd = (project / "a.txt").read_text().splitlines()[1]
    assert cluster.worker_of(cwd) is not None


def test_no_download_leaves_outputs_on_the_remote(project: Path, pv: PvRunner, cluster: Cluster) -> None:
    pv.ok("repro", "--executor", cluster.address, "--no-download")
    assert not (project / "a.txt").exists() and not (project / "c.txt").exists()
    lock = (project / "pv.lock").read_text()
    assert "  c:\n" in lock
    pv.ok("pull")
    assert (project / "c.txt").read_text() == (project / "a.txt").read_text() + (project / "b.txt").read_text()


def _pv_process(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "pipever", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().endswith("\n"):
            return path.read_text()
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError(f"{path} did not appear")


def test_ctrl_c_stops_the_commands_on_the_workers(project: Path, cluster: Cluster, tmp_path: Path) -> None:
    marker = tmp_path / "pid"
    gen({"pv.yaml": f"stages:\n  long:\n    cmd: echo $$ > {marker}; sleep 60; echo done > out.txt\n"
                    f"    deps: [in_b.txt]\n    outs: [out.txt]\n"})
    proc = _pv_process("repro", "--executor", cluster.address, cwd=project)
    pid = int(_wait_for(marker, proc).strip())
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    assert not _alive(pid)  # the command on the worker was killed, not only the queued task
    assert "  long:" not in (project / "pv.lock").read_text() if (project / "pv.lock").exists() else True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_task_whose_worker_is_killed_runs_again_on_another(
    project: Path, cluster: Cluster, tmp_path: Path,
) -> None:
    marker = tmp_path / "where"
    gen({"pv.yaml": f"stages:\n  slow:\n    cmd: pwd >> {marker}; sleep 3; pwd > out.txt\n"
                    f"    deps: [in_b.txt]\n    outs: [out.txt]\n"})
    spare = cluster.add_worker("spare")  # so the module's cluster keeps two workers
    cluster.wait_for_workers(len(cluster.workers))
    proc = _pv_process("repro", "--executor", cluster.address, cwd=project)
    first = _wait_for(marker, proc).splitlines()[0]
    victim = cluster.worker_of(first)
    assert victim is not None
    cluster.kill(victim)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, (out, err)
    where = (project / "out.txt").read_text().strip()
    assert cluster.worker_of(where) not in (None, victim)
    assert len(marker.read_text().splitlines()) == 2  # started twice: rescheduled
    assert "  slow:\n" in (project / "pv.lock").read_text()
    assert spare.exists()


EXP_PIPELINE = """\
stages:
  train:
    cmd: pwd > where.txt; grep lr params.yaml >> where.txt
    deps: [in_b.txt]
    params: [lr]
    outs: [{where.txt: {cache: false}}]
"""


def test_queued_experiments_run_on_the_cluster(project: Path, pv: PvRunner, cluster: Cluster) -> None:
    gen({"pv.yaml": EXP_PIPELINE, "params.yaml": "lr: 1\n"})
    git("add", "-A")
    git("commit", "-qm", "exp pipeline")
    pv.ok("exp", "run", "--queue", "-n", "e2", "-S", "lr=2")
    pv.ok("exp", "run", "--queue", "-n", "e3", "-S", "lr=3")
    res = pv.ok("queue", "start", "-j", "2", "--executor", cluster.address)
    assert "Experiment 'e2' saved" in res.stdout and "Experiment 'e3' saved" in res.stdout
    for name, lr in (("e2", 2), ("e3", 3)):
        where, value = git("show", f"refs/exps/{name}:where.txt").splitlines()
        assert cluster.worker_of(where) is not None
        assert value == f"lr: {lr}"
    one = pv.ok("exp", "run", "-n", "e4", "-S", "lr=4", "--executor", cluster.address)
    assert "Experiment 'e4' saved" in one.stdout
    assert cluster.worker_of(git("show", "refs/exps/e4:where.txt").splitlines()[0]) is not None
    assert not (project / "where.txt").exists()  # the workspace was not touched
