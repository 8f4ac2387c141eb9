"""pv push --run-cache / pv pull --run-cache: run-cache entries (and the outputs they name) shared
through the remote, so a fresh clone restores a run it never made."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import PvRunner, gen, git

STAGE = """\
stages:
  upper:
    cmd: tr a-z A-Z < in.txt > up.txt && echo ran >> log.txt
    deps: [in.txt]
    outs: [up.txt]
"""


def test_pulled_run_cache_restores_a_run_in_a_fresh_clone(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    pv.ok("remote", "add", "-d", "store", str(remote))
    gen({"pv.yaml": STAGE, "in.txt": "second\n", ".gitignore": "log.txt\n"})
    pv.ok("repro")  # a run with in.txt = 'second', never committed
    gen({"in.txt": "first\n"})
    pv.ok("repro")
    git("add", "-A")
    git("commit", "-qm", "first")
    res = pv.ok("push", "--run-cache")
    assert "2 run-cache entries pushed" in res.stdout
    assert len(list((remote / "runs").rglob("*"))) == 4  # 2 shards + 2 entries
    assert "Run cache is up to date." in pv.ok("push", "--run-cache").stdout

    clone = tmp_path / "clone"
    git("clone", "-q", str(pv_repo), str(clone))
    before = pv.ok("pull", "--run-cache", cwd=clone)
    assert "2 run-cache entries fetched" in before.stdout
    (clone / "in.txt").write_text("second\n")
    res = pv.ok("repro", cwd=clone)
    assert "Stage 'upper' is cached: restored its outputs from the run cache" in res.stdout
    assert (clone / "up.txt").read_text() == "SECOND\n"
    assert not (clone / "log.txt").exists()  # restored, never run


def test_push_run_cache_leaves_out_entries_whose_outputs_are_gone(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    pv.ok("remote", "add", "-d", "store", str(tmp_path / "remote"))
    gen({"pv.yaml": STAGE, "in.txt": "x\n"})
    pv.ok("repro")
    gen({"in.txt": "y\n"})
    pv.ok("repro")
    gone = [p for p in (pv_repo / ".pv" / "cache" / "blake3").rglob("*") if p.is_file() and p.read_bytes() == b"X\n"]
    assert len(gone) == 1
    gone[0].unlink()  # the first run's output is no longer in the cache
    res = pv.ok("push", "--run-cache")
    assert "1 run-cache entry pushed (1 left out: their outputs are not in the cache)" in res.stdout
    assert len([p for p in (tmp_path / "remote" / "runs").rglob("*") if p.is_file()]) == 1
