"""push/pull/fetch with stage targets (--with-deps) and -R, on a local folder remote."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.helpers import PvRunner, gen, git, git_commit

PIPELINE = f"""\
stages:
  prepare:
    cmd: {sys.executable} -c "open('prepared.txt', 'w').write(open('raw.txt').read() * 2)"
    deps: [raw.txt]
    outs: [prepared.txt]
  train:
    cmd: {sys.executable} -c "open('model.bin', 'w').write(open('prepared.txt').read() + '!')"
    deps: [prepared.txt]
    outs: [model.bin]
"""


def _pipeline(pv: PvRunner, tmp_path: Path) -> Path:
    gen({"raw.txt": "raw\n", "pv.yaml": PIPELINE, "nested": {"a": {"b": {"deep.txt": "deep"}}, "top.txt": "top"}})
    pv.ok("add", "raw.txt", "nested/a/b/deep.txt", "nested/top.txt")
    pv.ok("repro")
    pv.ok("remote", "add", "-d", "store", str(tmp_path / "store"))
    git_commit("pipeline")
    clone = tmp_path / "clone"
    git("clone", "-q", str(Path.cwd()), str(clone))
    return clone


def test_a_stage_target_pushes_and_pulls_its_outputs(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    clone = _pipeline(pv, tmp_path)
    assert pv.ok("push", "train").stdout.strip() == "1 file pushed"  # model.bin only
    assert pv.ok("push", "train", "--with-deps").stdout.strip() == "1 file pushed"  # + prepared.txt
    pv.ok("pull", "train", cwd=clone)
    assert (clone / "model.bin").read_text() == "raw\nraw\n!" and not (clone / "prepared.txt").exists()
    pv.ok("pull", "-d", "train", cwd=clone)
    assert (clone / "prepared.txt").read_text() == "raw\nraw\n"
    assert not (clone / "raw.txt").exists()  # a pointer-tracked dep is no stage's output


def test_fetch_with_deps_brings_upstream_outputs_into_the_cache(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    clone = _pipeline(pv, tmp_path)
    pv.ok("push")
    assert pv.ok("fetch", "train", cwd=clone).stdout.strip() == "1 file fetched"
    assert pv.ok("fetch", "--with-deps", "train", cwd=clone).stdout.strip() == "1 file fetched"
    assert pv.ok("fetch", "--with-deps", "train", cwd=clone).stdout.strip() == "Everything is up to date."


def test_recursive_directory_targets(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    clone = _pipeline(pv, tmp_path)
    assert pv.ok("push", "-R", "nested").stdout.strip() == "2 files pushed"
    pv.ok("pull", "-R", "nested", cwd=clone)
    assert (clone / "nested/a/b/deep.txt").read_text() == "deep" and (clone / "nested/top.txt").read_text() == "top"
    assert not (clone / "model.bin").exists()
    pv.ok("pull", "nested/a", cwd=clone)  # a directory holding a tracked file, from its parent
