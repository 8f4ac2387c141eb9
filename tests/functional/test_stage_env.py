"""What a stage command sees (SPEC §8.1): PV_* and the DVC_* names dvclive reads, and a stage
logging with the real dvclive.

dvclive needs DVC (a large install), so it is not in the test extra: the dvclive test runs with a
Python that has dvclive (this one, or the one named by $PV_TEST_DVCLIVE_PYTHON, e.g. a scratch venv
made with 'python -m venv /tmp/dvcvenv && /tmp/dvcvenv/bin/pip install dvclive') and is skipped
otherwise.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import PvRunner, gen

DUMP_PY = ("import json, os\njson.dump({k: v for k, v in os.environ.items() if k.startswith(('PV_', 'DVC_'))},"
           " open('env.json', 'w'))\n")
DUMP = f"{shlex.quote(sys.executable)} dump.py"


def test_stage_gets_pv_and_dvc_variables(pv_repo: Path, pv: PvRunner) -> None:
    gen({"sub": {"dump.py": DUMP_PY, "pv.yaml": f"stages:\n  dump:\n    cmd: {DUMP}\n    outs: [env.json]\n"}})
    pv.ok("repro", "sub/pv.yaml:dump")
    env = json.loads((pv_repo / "sub/env.json").read_text())
    root = str(pv_repo.resolve())
    assert {k: env[k] for k in ("PV_ROOT", "PV_STAGE", "DVC_ROOT", "DVC_STAGE")} == {
        "PV_ROOT": root, "PV_STAGE": "sub/pv.yaml:dump", "DVC_ROOT": root, "DVC_STAGE": "sub/pv.yaml:dump"}
    assert "DVC_EXP_NAME" not in env and "DVC_EXP_BASELINE_REV" not in env  # not an experiment


def test_experiment_stage_gets_its_name_and_baseline(pv_repo: Path, pv: PvRunner) -> None:
    gen({"dump.py": DUMP_PY, "pv.yaml": f"stages:\n  dump:\n    cmd: {DUMP}\n    outs: [env.json]\n"})
    subprocess.run(["git", "add", "-A"], check=True, capture_output=True)
    subprocess.run(["git", "commit", "-qm", "p"], check=True, capture_output=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    pv.ok("exp", "run", "-n", "e1")
    pv.ok("exp", "apply", "e1")
    env = json.loads((pv_repo / "env.json").read_text())
    assert env["PV_EXP_NAME"] == env["DVC_EXP_NAME"] == "e1"
    assert env["DVC_EXP_BASELINE_REV"] == head


def _dvclive_python() -> str | None:
    candidates = [os.environ.get("PV_TEST_DVCLIVE_PYTHON"), sys.executable]
    for py in filter(None, candidates):
        if subprocess.run([py, "-c", "import dvclive, dvc"], capture_output=True).returncode == 0:
            return py
    return None


TRAIN = """\
from dvclive import Live
with Live() as live:
    live.log_param("lr", 0.1)
    for i in range(3):
        live.log_metric("loss", 1.0 / (i + 1))
        live.next_step()
"""


def test_dvclive_stage_runs_under_pv_with_its_metrics_and_plots(pv_repo: Path, pv: PvRunner) -> None:
    py = _dvclive_python()
    if py is None:
        pytest.skip("dvclive with DVC is not installed (set PV_TEST_DVCLIVE_PYTHON)")
    gen({"train.py": TRAIN, "pv.yaml": (
        f"stages:\n  train:\n    cmd: {shlex.quote(py)} train.py\n    deps: [train.py]\n"
        "    metrics: [dvclive/metrics.json: {cache: false}]\n"
        "    plots: [dvclive/plots/metrics: {x: step}]\n")})
    subprocess.run(["git", "add", "-A"], check=True, capture_output=True)
    subprocess.run(["git", "commit", "-qm", "p"], check=True, capture_output=True)
    res = pv.ok("repro")
    assert json.loads((pv_repo / "dvclive/metrics.json").read_text())["loss"] == pytest.approx(1 / 3)
    assert "loss" in pv.ok("metrics", "show").stdout
    assert "dvclive/plots/metrics" in (pv_repo / "pv.lock").read_text()
    # dvclive ran 'dvc init' (no variable prevents it): pv unstaged DVC's files and said so once
    staged = subprocess.run(["git", "diff", "--cached", "--name-only"], capture_output=True, text=True,
                            check=True).stdout.split()
    assert not [p for p in staged if p.startswith((".dvc", ".dvcignore"))]
    assert res.stderr.count("ran 'dvc init'") == 1 and "Live(dvcyaml=None)" in res.stderr
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"
    assert "ran 'dvc init'" not in pv.ok("repro", "-f").stderr  # once: DVC's folder is there now
