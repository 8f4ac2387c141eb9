"""A repository whose content comes from someone else's commit (issue 16): pipelines, configs,
``.pv`` itself. pv never deletes what it cannot get back, never uses data outside the work tree
as its own, and never trusts a committed file with what only the machine's owner may set.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.helpers import PvRunner, gen, git, git_commit


# -- case 1: repro never deletes files Git tracks ----------------------------------------------
def test_repro_refuses_to_clear_an_output_directory_whose_files_git_tracks(pv_repo: Path, pv: PvRunner) -> None:
    gen({"src": {"main.py": "print(1)\n", "util.py": "x = 1\n"}})
    git_commit("source code")
    (pv_repo / "src" / "main.py").write_text("print(2)  # not committed yet\n")
    gen({"pv.yaml": "stages:\n  build:\n    cmd: mkdir -p src && touch src/built\n    outs: [src]\n"})
    git_commit("a stage whose output is the source folder")
    res = pv("repro")
    assert res.exit_code == 1, res
    assert res.stderr.startswith("Stage 'build' failed: output 'src' of stage 'build' holds files tracked by Git: "
                                 "'src/main.py', 'src/util.py' (outputs are deleted before their stage runs: "
                                 "'git rm -r --cached src' hands them to pv, or fix the stage's outs)\nERROR: "), res
    assert (pv_repo / "src" / "main.py").read_text() == "print(2)  # not committed yet\n"
    assert not (pv_repo / "src" / "built").exists()


def test_repro_still_rewrites_an_uncached_output_kept_in_git(pv_repo: Path, pv: PvRunner) -> None:
    """``cache: false`` outputs committed to Git (metrics) are the usual DVC workflow: no refusal."""
    gen({"pv.yaml": "stages:\n  s:\n    cmd: echo two > m.txt\n    outs: [{m.txt: {cache: false}}]\n", "m.txt": "one\n"})
    git_commit("output committed to Git")
    pv.ok("repro")
    assert (pv_repo / "m.txt").read_text() == "two\n"
    gen({"pv.yaml": "stages:\n  s:\n    cmd: echo three > m.txt\n    outs: [{m.txt: {cache: false}}]\n"})
    pv.ok("repro")
    assert (pv_repo / "m.txt").read_text() == "three\n"


def test_repro_refuses_a_cached_output_file_git_tracks(pv_repo: Path, pv: PvRunner) -> None:
    gen({"notes.txt": "my notes\n"})
    git_commit("notes")
    (pv_repo / "notes.txt").write_text("my notes, edited\n")
    gen({"pv.yaml": "stages:\n  s:\n    cmd: echo gen > notes.txt\n    outs: [notes.txt]\n"})
    res = pv("repro")
    assert res.exit_code == 1, res
    assert res.stderr.startswith("Stage 's' failed: output 'notes.txt' of stage 's' holds files tracked by Git: 'notes.txt'"), res
    assert (pv_repo / "notes.txt").read_text() == "my notes, edited\n"

