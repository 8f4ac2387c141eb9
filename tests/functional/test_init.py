from __future__ import annotations

from pathlib import Path

from tests.helpers import PvRunner, git


def test_init_creates_layout_and_stages_it(git_repo: Path, pv: PvRunner) -> None:
    res = pv.ok("init")
    assert "Initialized pipever repository" in res.stdout
    assert (git_repo / ".pv/cache").is_dir() and (git_repo / ".pv/tmp").is_dir()
    assert (git_repo / ".pv/.gitignore").read_text() == "/cache/\n/tmp/\n/config.local.yaml\n"
    staged = git("diff", "--cached", "--name-only").split()
    assert staged == [".gitignore", ".pv/.gitignore", ".pv/config.yaml"]
    assert (git_repo / ".gitignore").read_text() == "/pv_plots\n"  # where 'pv plots show' writes


def test_init_keeps_an_existing_gitignore_and_ignores_pv_plots(git_repo: Path, pv: PvRunner) -> None:
    (git_repo / ".gitignore").write_text("*.pyc")
    pv.ok("init")
    assert (git_repo / ".gitignore").read_text() == "*.pyc\n/pv_plots\n"
    (git_repo / "pv_plots").mkdir()
    (git_repo / "pv_plots" / "index.html").write_text("<html/>")
    assert git("status", "--porcelain", "--untracked-files=all", "pv_plots") == ""


def test_quiet_after_the_command_is_the_global_flag(git_repo: Path, pv: PvRunner) -> None:
    """``pv init -q`` as ``dvc init -q``: commands without a -q of their own take the global one."""
    res = pv.ok("init", "-q")
    assert (res.stdout, res.stderr) == ("", "")
    assert (git_repo / ".pv/config.yaml").is_file()
    res = pv.ok("remote", "add", "-d", "store", str(git_repo.parent / "store"), "--quiet")
    assert res.stdout == ""
    assert "store" in pv.ok("remote", "list").stdout
    assert pv("init", "-q").exit_code == 1  # errors still show
    assert "already a pipever repository" in pv("init", "-q").stderr


def test_init_outside_git_names_git_init(tmp_dir: Path, pv: PvRunner) -> None:
    res = pv("init")
    assert res.exit_code == 1
    assert res.stderr == (
        f"ERROR: '{tmp_dir}' is not inside a Git work tree — run 'git init' first, "
        "or 'pv init --no-scm' for a plain directory\n"
    )
    assert not (tmp_dir / ".pv").exists()


def test_init_no_scm_in_plain_directory(tmp_dir: Path, pv: PvRunner) -> None:
    pv.ok("init", "--no-scm")
    (tmp_dir / "f").write_text("x")
    pv.ok("add", "f")
    assert (tmp_dir / "f.pv").exists()


def test_init_twice_needs_force(pv_repo: Path, pv: PvRunner) -> None:
    res = pv("init")
    assert res.exit_code == 1
    assert "is already a pipever repository — use 'pv init --force' to reinitialize" in res.stderr
    pv.ok("init", "--force")


def test_version_and_help(pv: PvRunner) -> None:
    from pipever import __version__

    assert pv.ok("--version").stdout == f"pipever {__version__}\n"
    help_text = pv.ok("--help").stdout
    for cmd in ("init", "add", "status", "checkout", "commit", "config"):
        assert cmd in help_text


def test_usage_error_exits_2(pv_repo: Path, pv: PvRunner) -> None:
    assert pv("add", "--no-such-flag").exit_code == 2
    assert pv("no-such-command").exit_code == 2
