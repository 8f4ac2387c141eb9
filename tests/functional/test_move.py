from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.helpers import PvRunner, gen, git, git_commit


def staged() -> list[str]:
    return sorted(git("diff", "--cached", "--name-only", "--no-renames").split())


def pointer_path(pointer: str) -> str:
    return [ln for ln in Path(pointer).read_text().splitlines() if "path:" in ln][0].split()[-1]


def test_move_file_with_pointer_and_gitignore(pv_repo: Path, pv: PvRunner) -> None:
    gen({"data.csv": "1\n"})
    pv.ok("add", "data.csv")
    git_commit("track")
    res = pv("move", "data.csv", "sub/renamed.csv")
    assert res.exit_code == 0, res
    assert res.stdout == (
        "Moved data.csv -> sub/renamed.csv (data.csv.pv -> sub/renamed.csv.pv)\n"
        "Staged in Git: .gitignore data.csv.pv sub/.gitignore sub/renamed.csv.pv\n"
    )
    assert Path("sub/renamed.csv").read_text() == "1\n"
    assert not Path("data.csv").exists() and not Path("data.csv.pv").exists()
    assert pointer_path("sub/renamed.csv.pv") == "renamed.csv"
    assert Path("sub/.gitignore").read_text() == "/renamed.csv\n"
    assert Path(".gitignore").read_text() == "/pv_plots\n"  # only pv init's entry is left
    assert staged() == [".gitignore", "data.csv.pv", "sub/.gitignore", "sub/renamed.csv.pv"]
    assert "sub/renamed.csv.pv" in git("ls-files")
    assert pv("status").stdout == "Data and pipelines are up to date.\n"


def test_move_into_an_existing_directory(pv_repo: Path, pv: PvRunner) -> None:
    gen({"data": {"a": "a\n"}, "archive": {"readme": "r\n"}})
    pv.ok("add", "data")
    res = pv("move", "data", "archive")
    assert res.exit_code == 0, res
    assert Path("archive/data/a").read_text() == "a\n"
    assert pointer_path("archive/data.pv") == "data"
    assert Path("archive/.gitignore").read_text() == "/data\n"
    assert pv("status").stdout == "Data and pipelines are up to date.\n"


def test_move_keeps_extra_pointer_keys(pv_repo: Path, pv: PvRunner) -> None:
    gen({"m.bin": "m\n"})
    pv.ok("add", "m.bin")
    text = Path("m.bin.pv").read_text()
    Path("m.bin.pv").write_text(text.replace("  size:", "  remote: models\n  push: false\n  size:") + "desc: the model\nmeta:\n  owner: me\n")
    pv.ok("move", "m.bin.pv", "model.bin")  # the pointer file works as SRC too
    new = Path("model.bin.pv").read_text()
    assert "remote: models" in new and "push: false" in new
    assert "desc: the model" in new and "owner: me" in new
    assert pointer_path("model.bin.pv") == "model.bin"


def test_move_carries_state_so_nothing_is_rehashed(pv_repo: Path, pv: PvRunner) -> None:
    from pipever.repo import Repo

    gen({"data": {"a": "a\n"}})
    old = time.time() - 100
    os.utime("data/a", (old, old))
    pv.ok("add", "data")
    pv.ok("move", "data", "d2")
    with Repo() as repo:
        assert repo.state.get("d2/a", os.stat("d2/a")) is not None


def test_move_pointer_only_when_data_is_not_checked_out(pv_repo: Path, pv: PvRunner) -> None:
    gen({"f": "f\n"})
    pv.ok("add", "f")
    os.unlink("f")
    pv.ok("move", "f", "g")
    assert not Path("g").exists() and Path("g.pv").exists()
    pv.ok("checkout")
    assert Path("g").read_text() == "f\n"


@pytest.mark.parametrize(
    ("dst", "error"),
    [
        ("exists.txt", "ERROR: 'exists.txt' already exists — choose another destination, or remove it first\n"),
        ("taken", "ERROR: 'taken.pv' already exists — choose another destination, or remove it first\n"),
        ("/tmp/elsewhere", "ERROR: path '/tmp/elsewhere' is outside the repository — use a path inside the work tree, not in .git or .pv\n"),
        ("../up", "ERROR: path '../up' is outside the repository — use a path inside the work tree, not in .git or .pv\n"),
        (".git/f", "ERROR: path '.git/f' points into '.git' — use a path inside the work tree, not in .git or .pv\n"),
        (".pv/f", "ERROR: path '.pv/f' points into '.pv' — use a path inside the work tree, not in .git or .pv\n"),
        ("dir/f", "ERROR: 'dir/f' is inside the tracked directory 'dir' — choose a destination outside tracked data\n"),
        ("f", "ERROR: 'f' is 'f' itself — give a different destination\n"),
        ("code.py", "ERROR: 'code.py' already exists — choose another destination, or remove it first\n"),
        ("gitfile", "ERROR: 'gitfile' is tracked by Git — run 'git rm -r --cached gitfile' first, or choose another destination\n"),
        ("ign/f", "ERROR: 'ign/f.pv' would be ignored by Git — change the .gitignore rule that ignores it"
                  " ('git check-ignore -v ign/f.pv' shows which)\n"),
    ],
)
def test_move_refuses_bad_destinations(pv_repo: Path, pv: PvRunner, dst: str, error: str) -> None:
    gen({"f": "f\n", "exists.txt": "e\n", "taken": "t\n", "dir": {"a": "a\n"}, "code.py": "", "gitfile": "g\n"})
    pv.ok("add", "f", "dir", "taken")
    git_commit("state")
    Path(".git/info/exclude").write_text("ign/\n")  # a moved pointer there would be invisible to pv
    os.unlink("gitfile")  # still in Git's index
    os.unlink("taken")  # only its pointer is left
    res = pv("move", "f", dst)
    assert res.exit_code == 1
    assert res.stderr == error
    assert Path("f").read_text() == "f\n" and Path("f.pv").exists()
    assert git("status", "--porcelain", "--untracked-files=no") == " D gitfile\n"
    assert not Path(".git/f").exists() and not Path(".pv/f").exists()


def test_move_refuses_a_directory_into_itself(pv_repo: Path, pv: PvRunner) -> None:
    gen({"d": {"a": "a\n"}})
    pv.ok("add", "d")
    res = pv("move", "d", "d/sub")
    assert res.exit_code == 1
    assert res.stderr == "ERROR: cannot move 'd' into itself ('d/sub') — give a destination outside it\n"


def test_move_refuses_untracked_sources(pv_repo: Path, pv: PvRunner) -> None:
    gen({"plain": "p\n", "dir": {"a": "a\n"}})
    pv.ok("add", "dir")
    res = pv("move", "plain", "other")
    assert res.exit_code == 1
    assert res.stderr == "ERROR: 'plain' is not tracked by pipever — use 'git mv' or 'mv' for files pipever does not track\n"
    res = pv("move", "dir/a", "b")
    assert res.stderr == (
        "ERROR: 'dir/a' is inside the tracked directory 'dir' — move the whole directory"
        " ('pv move dir ...'), or move the file and 'pv add dir'\n"
    )
    assert Path("plain").exists() and Path("dir/a").exists()


def test_move_refuses_pointers_with_several_outs(pv_repo: Path, pv: PvRunner) -> None:
    gen({"a": "a\n", "b": "b\n"})
    pv.ok("add", "a", "b")
    a, b = Path("a.pv").read_text(), Path("b.pv").read_text()
    Path("a.pv").write_text(a + b.split("outs:\n", 1)[1])
    os.unlink("b.pv")
    res = pv("move", "a", "c")
    assert res.exit_code == 1
    assert res.stderr == "ERROR: 'a.pv' tracks more than one path — 'pv move' moves pointers with a single path; edit the pointer file instead\n"
