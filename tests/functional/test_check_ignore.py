from __future__ import annotations

from pathlib import Path

from tests.helpers import PvRunner, gen, git, git_commit

PVIGNORE = "# junk\n*.tmp\n!keep.tmp\n\n__pycache__/\n"


def test_lists_ignored_paths_like_git(pv_repo: Path, pv: PvRunner) -> None:
    gen({".pvignore": PVIGNORE, "d": {"x.tmp": "", "keep.tmp": "", "y.csv": "", "__pycache__": {"m.pyc": ""}}})
    res = pv("check-ignore", "d/x.tmp", "d/keep.tmp", "d/y.csv", "d/__pycache__", "d/__pycache__/m.pyc")
    assert (res.exit_code, res.stdout, res.stderr) == (0, "d/x.tmp\nd/__pycache__\nd/__pycache__/m.pyc\n", "")


def test_details_show_source_line_and_pattern(pv_repo: Path, pv: PvRunner) -> None:
    gen({".pvignore": PVIGNORE, "d": {"x.tmp": "", "keep.tmp": "", "y.csv": ""}})
    res = pv("check-ignore", "-d", "d/x.tmp", "d/keep.tmp", "d/y.csv", "d/__pycache__/")
    assert res.exit_code == 0
    assert res.stdout == (
        ".pvignore:2:*.tmp\td/x.tmp\n"
        ".pvignore:3:!keep.tmp\td/keep.tmp\n"
        ".pvignore:5:__pycache__/\td/__pycache__/\n"
    )
    res = pv("check-ignore", "--details", "--non-matching", "d/y.csv", "d/x.tmp")
    assert res.stdout == "::\td/y.csv\n.pvignore:2:*.tmp\td/x.tmp\n"


def test_pvignore_in_a_subdirectory(pv_repo: Path, pv: PvRunner) -> None:
    gen({"data": {".pvignore": "*.bak\n", "a.bak": "", "a.csv": ""}, "top.bak": ""})
    res = pv("check-ignore", "-d", "data/a.bak", "top.bak")
    assert res.stdout == "data/.pvignore:1:*.bak\tdata/a.bak\n"
    res = pv("check-ignore", "a.bak", cwd=Path("data"))  # paths relative to the cwd, shown as given
    assert res.stdout == "a.bak\n"


def test_exit_1_when_nothing_is_ignored(pv_repo: Path, pv: PvRunner) -> None:
    gen({".pvignore": PVIGNORE, "y.csv": ""})
    res = pv("check-ignore", "y.csv", "d/keep.tmp")
    assert (res.exit_code, res.stdout, res.stderr) == (1, "", "")
    res = pv("check-ignore", "-d", "-n", "y.csv")
    assert (res.exit_code, res.stdout) == (1, "::\ty.csv\n")


def test_without_any_pvignore(pv_repo: Path, pv: PvRunner) -> None:
    assert pv("check-ignore", "anything").exit_code == 1


def test_usage_and_path_errors(pv_repo: Path, pv: PvRunner) -> None:
    res = pv("check-ignore", "-n", "x")
    assert res.exit_code == 2
    assert "-n/--non-matching needs -d/--details" in res.stderr
    res = pv("check-ignore", "/elsewhere")
    assert (res.exit_code, res.stderr) == (1, "ERROR: path '/elsewhere' is outside the repository — use a path inside the work tree, not in .git or .pv\n")
    res = pv("check-ignore", ".pv/cache")
    assert res.stderr == "ERROR: path '.pv/cache' points into '.pv' — use a path inside the work tree, not in .git or .pv\n"


# -- .pvignore is honoured by add, status and checkout -------------------------------------------
def test_add_leaves_ignored_files_out_of_the_directory(pv_repo: Path, pv: PvRunner) -> None:
    gen({".pvignore": PVIGNORE, "d": {"a.csv": "a\n", "x.tmp": "junk\n", "keep.tmp": "k\n", "__pycache__": {"m.pyc": "c"}}})
    res = pv("add", "d")
    assert res.exit_code == 0, res
    assert "Added d (2 files, 4 B) -> d.pv" in res.stdout
    assert "nfiles: 2" in Path("d.pv").read_text()


def test_status_ignores_ignored_changes(pv_repo: Path, pv: PvRunner) -> None:
    gen({".pvignore": PVIGNORE, "d": {"a.csv": "a\n"}})
    pv.ok("add", "d")
    gen({"d": {"new.tmp": "junk\n", "__pycache__": {"m.pyc": "c"}}})
    assert pv("status").stdout == "Data and pipelines are up to date.\n"
    gen({"d": {"new.csv": "real\n"}})
    assert "modified:" in pv("status").stdout


def test_checkout_keeps_ignored_files(pv_repo: Path, pv: PvRunner) -> None:
    gen({".pvignore": PVIGNORE, "d": {"a.csv": "a1\n", "b.csv": "b\n"}})
    pv.ok("add", "d")
    git_commit("v1")
    gen({"d": {"a.csv": "a2\n"}})
    Path("d/b.csv").unlink()
    pv.ok("add", "d")
    git_commit("v2")
    gen({"d": {"scratch.tmp": "my notes\n"}})
    git("checkout", "-q", "HEAD~1")
    res = pv("checkout")
    assert res.exit_code == 0, res
    assert Path("d/a.csv").read_text() == "a1\n" and Path("d/b.csv").read_text() == "b\n"
    assert Path("d/scratch.tmp").read_text() == "my notes\n"
    git("checkout", "-q", "main")
    pv.ok("checkout")
    assert not Path("d/b.csv").exists()
    assert Path("d/scratch.tmp").read_text() == "my notes\n"
