"""pv queue start|status|logs|kill|remove: the experiment queue, run in the foreground by
'pv queue start' and watched, stopped and trimmed from other processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import PvRunner, gen, git_commit

STAGE = """\
stages:
  train:
    cmd: sh train.sh
    deps: [train.sh]
    params: [train]
    outs: [{result.txt: {cache: false}}]
"""
TRAIN = """\
echo "training with $(grep lr params.yaml)"
if [ -n "$MARKER" ] && grep -q "lr: 5" params.yaml; then echo $$ > "$MARKER"; sleep 60; fi
grep lr params.yaml > result.txt
"""


@pytest.fixture
def proj(pv_repo: Path, pv: PvRunner) -> Path:
    gen({"pv.yaml": STAGE, "train.sh": TRAIN, "params.yaml": "train:\n  lr: 1\n"})
    pv.ok("repro")
    git_commit("baseline")
    return pv_repo


def status(pv: PvRunner) -> dict[str, str]:
    return {r["name"]: r["status"] for r in json.loads(pv.ok("queue", "status", "--json").stdout)}


def test_queue_status_remove_start_logs(proj: Path, pv: PvRunner) -> None:
    pv.ok("exp", "run", "--queue", "-n", "one", "-S", "train.lr=2")
    pv.ok("exp", "run", "--queue", "-n", "two", "-S", "train.lr=3")
    assert status(pv) == {"one": "queued", "two": "queued"}
    assert "two  queued       -S train.lr=3\n" in pv.ok("queue", "status").stdout

    assert "Removed 1 experiment(s) from the queue: two" in pv.ok("queue", "remove", "two").stdout
    res = pv("queue", "remove", "nope")
    assert res.exit_code == 1 and "ERROR: no queued experiment 'nope'" in res.stderr

    res = pv.ok("queue", "start")
    assert "Experiment 'one' saved as refs/exps/one" in res.stdout
    assert status(pv) == {"one": "success"}
    log = pv.ok("queue", "logs", "one").stdout
    assert "Running stage 'train':\n> sh train.sh\n[train] training with   lr: 2\nStage 'train': ran" in log

    assert pv("queue", "logs", "two").exit_code == 1
    pv.ok("queue", "remove", "--all")
    assert status(pv) == {}
    assert "No experiments are queued." in pv.ok("queue", "start").stdout


def test_queue_kill_stops_a_running_experiment(proj: Path, pv: PvRunner, tmp_path: Path) -> None:
    marker = tmp_path / "pid"
    pv.ok("exp", "run", "--queue", "-n", "slow", "-S", "train.lr=5")
    pv.ok("exp", "run", "--queue", "-n", "after", "-S", "train.lr=6")
    proc = subprocess.Popen([sys.executable, "-m", "pipever", "queue", "start"], cwd=proj,
                            env={**os.environ, "MARKER": str(marker)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (marker.exists() and marker.read_text().endswith("\n")):
            assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        assert status(pv)["slow"] == "running"
        res = pv("queue", "kill", "after")
        assert res.exit_code == 1 and "ERROR: experiment 'after' is not running" in res.stderr
        pv.ok("queue", "kill", "slow")
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1, (out, err)
    assert "'slow': experiment 'slow' was killed ('pv queue kill')" in err
    states = status(pv)
    assert states["slow"] == "killed"
    assert states["after"] == "success"  # the queue went on with the next one
    pid = int(marker.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
