from __future__ import annotations

import os
import stat
from pathlib import Path

from tests.helpers import PvRunner, gen, git, git_commit


def index_status() -> str:
    return git("status", "--porcelain", "--untracked-files=no")


def test_remove_keeps_the_data_and_unstages_the_pointer(pv_repo: Path, pv: PvRunner) -> None:
    gen({"data.csv": "1,2\n", "other.txt": "o\n"})
    pv.ok("add", "data.csv", "other.txt")
    git_commit("track")
    res = pv("remove", "data.csv.pv")
    assert res.exit_code == 0, res
    assert res.stdout == (
        "Removed data.csv.pv\n"
        "Kept (no longer tracked): data.csv\n"
        "Staged in Git: .gitignore data.csv.pv\n"
    )
    assert not Path("data.csv.pv").exists()
    assert Path("data.csv").read_text() == "1,2\n"
    assert Path(".gitignore").read_text() == "/pv_plots\n/other.txt\n"
    assert index_status() == "M  .gitignore\nD  data.csv.pv\n"


def test_remove_last_entry_deletes_the_gitignore(pv_repo: Path, pv: PvRunner) -> None:
    gen({"sub": {"x.bin": "x\n"}})
    pv.ok("add", "sub/x.bin")
    git_commit("track")
    pv.ok("remove", "sub/x.bin.pv")
    assert not Path("sub/.gitignore").exists()
    assert index_status() == "D  sub/.gitignore\nD  sub/x.bin.pv\n"


def test_remove_outs_deletes_the_data(pv_repo: Path, pv: PvRunner) -> None:
    gen({"data": {"a": "a\n", "deep": {"b": "b\n"}}, "f": "f\n"})
    pv.ok("add", "data", "f")
    git_commit("track")
    res = pv("remove", "data.pv", "f.pv", "--outs")
    assert res.exit_code == 0, res
    assert "Deleted data\nDeleted f\n" in res.stdout
    assert not Path("data").exists() and not Path("f").exists()
    assert Path(".gitignore").read_text() == "/pv_plots\n"  # only pv init's entry is left
    assert index_status() == "M  .gitignore\nD  data.pv\nD  f.pv\n"


def test_remove_outs_refuses_to_lose_unsaved_changes(pv_repo: Path, pv: PvRunner) -> None:
    gen({"data": {"a": "a\n"}, "f": "f\n"})
    pv.ok("add", "data", "f")
    git_commit("track")
    gen({"data": {"a": "edited, not added\n"}})
    res = pv("remove", "f.pv", "data.pv", "--outs")
    assert res.exit_code == 1
    assert res.stderr == (
        "ERROR: 'data/a' has changes that are not in the cache and would be lost"
        " — 'pv add data' to keep them, or delete 'data' yourself\n"
    )
    # nothing was written, not even for the first target
    assert Path("f").exists() and Path("f.pv").exists() and Path("data.pv").exists()
    assert Path("data/a").read_text() == "edited, not added\n"
    assert index_status() == ""


def test_remove_outs_leaves_pvignored_files(pv_repo: Path, pv: PvRunner) -> None:
    gen({".pvignore": "*.log\n", "data": {"a": "a\n", "run.log": "log\n"}})
    pv.ok("add", "data")
    pv.ok("remove", "data.pv", "--outs")
    assert sorted(os.listdir("data")) == ["run.log"]


def test_kept_data_no_longer_shares_the_cache(pv_repo: Path, pv: PvRunner) -> None:
    pv.ok("config", "cache.type", "hardlink,symlink")
    gen({"data": {"a": "a\n"}, "f": "f\n"})
    pv.ok("add", "data", "f")
    assert os.stat("f").st_nlink > 1 or os.path.islink("f")
    pv.ok("remove", "data.pv", "f.pv")
    for p in ("f", "data/a"):
        st = os.lstat(p)
        assert stat.S_ISREG(st.st_mode) and st.st_nlink == 1 and st.st_mode & stat.S_IWUSR
    pv.ok("gc", "-w", "-f")  # the objects go; the kept files must not
    assert Path("f").read_text() == "f\n" and Path("data/a").read_text() == "a\n"


def test_remove_of_an_uncommitted_pointer_stages_nothing(pv_repo: Path, pv: PvRunner) -> None:
    pv.ok("config", "core.autostage", "false")
    gen({"f": "f\n"})
    pv.ok("add", "f")
    res = pv("remove", "f.pv")
    assert res.exit_code == 0, res
    assert "Staged" not in res.stdout
    assert not Path("f.pv").exists() and Path(".gitignore").read_text() == "/pv_plots\n"
    assert index_status() == " M .pv/config.yaml\n"


def test_remove_needs_a_pointer_file(pv_repo: Path, pv: PvRunner) -> None:
    gen({"f": "f\n"})
    pv.ok("add", "f")
    res = pv("remove", "f")
    assert res.exit_code == 1
    assert res.stderr == "ERROR: 'f' is not a pointer file — remove its pointer: 'pv remove f.pv'\n"
    res = pv("remove", "nothing")
    assert res.stderr == "ERROR: 'nothing' is not a pointer file or a stage — name a *.pv file (see 'git ls-files \"*.pv\"')\n"
    res = pv("remove", "f.pv", "gone.pv")
    assert res.exit_code == 1
    assert res.stderr == "ERROR: 'gone.pv' does not exist — check the path ('git ls-files \"*.pv\"' lists pointer files)\n"
    assert Path("f.pv").exists()


def test_remove_from_a_subdirectory(pv_repo: Path, pv: PvRunner) -> None:
    gen({"sub": {"x": "x\n"}})
    pv.ok("add", "sub/x")
    res = pv("remove", "x.pv", cwd=Path("sub"))
    assert res.exit_code == 0, res
    assert res.stdout.startswith("Removed sub/x.pv\n")
    assert not Path("sub/x.pv").exists()
