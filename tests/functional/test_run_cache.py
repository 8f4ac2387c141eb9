"""The run cache: a stage whose cmd, deps and params match an earlier run restores that run's
outputs (and says so) instead of running; --no-run-cache and -f run the command."""

from __future__ import annotations

import os
from pathlib import Path

from tests.helpers import PvRunner, gen

PIPELINE = """\
stages:
  train:
    cmd:
    - echo lr=$(grep lr params.yaml) > model.txt
    - mkdir -p plots && echo 1,2 > plots/a.csv
    - 'echo ''{"acc": 1}'' > metrics.json'
    - echo ran >> log.txt
    deps: [data.txt]
    params: [lr]
    outs: [model.txt, plots]
    metrics: [{metrics.json: {cache: false}}]
"""


def runs(root: Path) -> int:
    log = root / "log.txt"
    return len(log.read_text().splitlines()) if log.exists() else 0


def setup(pv_repo: Path, pv: PvRunner) -> None:
    gen({"pv.yaml": PIPELINE, "data.txt": "d\n", "params.yaml": "lr: 1\n"})
    pv.ok("repro")
    assert runs(pv_repo) == 1


def test_reverting_a_param_restores_outputs_from_the_run_cache(pv_repo: Path, pv: PvRunner) -> None:
    setup(pv_repo, pv)
    first_lock = (pv_repo / "pv.lock").read_text()
    (pv_repo / "params.yaml").write_text("lr: 2\n")
    pv.ok("repro")
    assert runs(pv_repo) == 2 and (pv_repo / "model.txt").read_text() == "lr=lr: 2\n"
    (pv_repo / "params.yaml").write_text("lr: 1\n")
    res = pv.ok("repro")
    assert res.stdout.startswith("Stage 'train' is cached: restored its outputs from the run cache\n")
    assert runs(pv_repo) == 2
    assert (pv_repo / "model.txt").read_text() == "lr=lr: 1\n"
    assert (pv_repo / "plots/a.csv").read_text() == "1,2\n"
    assert (pv_repo / "metrics.json").read_text() == '{"acc": 1}\n'
    assert os.access(pv_repo / "metrics.json", os.W_OK)  # an uncached output is a plain copy
    assert (pv_repo / "pv.lock").read_text() == first_lock
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"


def test_deleted_outputs_come_back_from_the_run_cache(pv_repo: Path, pv: PvRunner) -> None:
    setup(pv_repo, pv)
    for rel in ("model.txt", "metrics.json"):
        (pv_repo / rel).unlink()
    res = pv.ok("repro")
    assert "restored its outputs from the run cache" in res.stdout
    assert runs(pv_repo) == 1 and (pv_repo / "metrics.json").exists()


def test_no_run_cache_and_force_run_the_command(pv_repo: Path, pv: PvRunner) -> None:
    setup(pv_repo, pv)
    (pv_repo / "model.txt").unlink()
    pv.ok("repro", "--no-run-cache")
    assert runs(pv_repo) == 2
    pv.ok("repro", "-f")
    assert runs(pv_repo) == 3


def test_a_missing_object_falls_back_to_running(pv_repo: Path, pv: PvRunner) -> None:
    setup(pv_repo, pv)
    (pv_repo / "params.yaml").write_text("lr: 2\n")
    pv.ok("repro")
    for path in (pv_repo / ".pv/cache/blake3").rglob("*"):
        if path.is_file() and path.read_bytes() == b"lr=lr: 1\n":
            path.chmod(0o644)
            path.unlink()
    (pv_repo / "params.yaml").write_text("lr: 1\n")
    res = pv.ok("repro")
    assert "Running stage 'train'" in res.stdout and runs(pv_repo) == 3


def test_stages_that_are_not_cacheable(pv_repo: Path, pv: PvRunner) -> None:
    gen({"pv.yaml": (
        "stages:\n"
        "  nodeps:\n    cmd: echo x > a.txt && echo ran >> log.txt\n    outs: [a.txt]\n"
        "  keep:\n    cmd: echo x >> b.txt && echo ran >> log.txt\n    deps: [c.txt]\n"
        "    outs: [{b.txt: {persist: true}}]\n"
    ), "c.txt": "c\n"})
    pv.ok("repro")
    (pv_repo / "a.txt").unlink()
    (pv_repo / "b.txt").write_text("changed\n")
    res = pv.ok("repro")
    assert "run cache" not in res.stdout and runs(pv_repo) == 4
    assert (pv_repo / "b.txt").read_text() == "changed\nx\n"  # persistent: kept, not deleted before running
