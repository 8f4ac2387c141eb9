"""pv install / pv uninstall: hook scripts, chaining with existing hooks, merge driver, pre-commit config."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from pipever.commands.githooks.install import hook_script
from pipever.repo import Repo
from tests.helpers import PvRunner, gen, git, git_run

HOOKS = ("pre-commit", "pre-push", "post-checkout")
FOREIGN = "#!/bin/sh\necho \"legacy $0 $*\" >> legacy.log\n"


def _hooks(root: Path) -> Path:
    return root / ".git" / "hooks"


def _is_executable(path: Path) -> bool:
    return bool(path.stat().st_mode & stat.S_IXUSR)


def test_install_writes_hooks_that_run_this_interpreter(pv_repo: Path, pv: PvRunner) -> None:
    res = pv.ok("install")
    assert "Installed Git hooks pre-commit, pre-push, post-checkout" in res.stdout
    for name in HOOKS:
        script = _hooks(pv_repo) / name
        assert _is_executable(script)
        text = script.read_text()
        assert text.startswith("#!/bin/sh\n# pipever-hook-script")
        assert f"PV_PYTHON={sys.executable}\n" in text
        assert f'-m pipever git-hook {name} "$@"' in text


def test_install_registers_merge_driver_and_gitattributes(pv_repo: Path, pv: PvRunner) -> None:
    pv.ok("install")
    driver = git("config", "merge.pipever.driver").strip()
    assert driver == f"{sys.executable} -m pipever git-hook merge-driver --marker-size %L %O %A %B %P"
    assert "pv.lock merge=pipever" in (pv_repo / ".gitattributes").read_text()
    assert git("check-attr", "merge", "--", "pv.lock", "sub/data.csv.pv", "data.csv").splitlines() == [
        "pv.lock: merge: pipever", "sub/data.csv.pv: merge: pipever", "data.csv: merge: unspecified",
    ]


def test_install_chains_an_existing_hook_and_uninstall_restores_it_exactly(pv_repo: Path, pv: PvRunner) -> None:
    hook = _hooks(pv_repo) / "pre-commit"
    hook.write_text(FOREIGN)
    os.chmod(hook, 0o750)
    gen({".gitattributes": "*.bin binary\n"})
    git("add", ".gitattributes")
    git("commit", "-qm", "attributes")

    res = pv.ok("install")
    assert "Kept the existing pre-commit hook: moved to pre-commit.legacy" in res.stdout
    assert (_hooks(pv_repo) / "pre-commit.legacy").read_text() == FOREIGN
    commit = git_run("commit", "-q", "--allow-empty", "-m", "x")
    assert commit.returncode == 0, commit.stderr
    assert (pv_repo / "legacy.log").read_text().startswith("legacy ")  # the old hook still runs

    res = pv.ok("uninstall")
    assert "Restored the previous pre-commit hook" in res.stdout
    assert hook.read_text() == FOREIGN and stat.S_IMODE(hook.stat().st_mode) == 0o750
    assert sorted(p.name for p in _hooks(pv_repo).iterdir() if not p.name.endswith(".sample")) == ["pre-commit"]
    assert (pv_repo / ".gitattributes").read_text() == "*.bin binary\n"
    assert git_run("config", "--get-regexp", "merge[.]pipever").stdout == ""


def test_uninstall_of_a_fresh_install_leaves_nothing_behind(pv_repo: Path, pv: PvRunner) -> None:
    pv.ok("install")
    pv.ok("uninstall")
    assert [p.name for p in _hooks(pv_repo).iterdir() if not p.name.endswith(".sample")] == []
    assert not (pv_repo / ".gitattributes").exists()
    assert git("status", "--porcelain") == ""


def test_install_twice_keeps_the_chained_hook_and_refreshes_the_scripts(pv_repo: Path, pv: PvRunner) -> None:
    (_hooks(pv_repo) / "pre-push").write_text(FOREIGN)
    pv.ok("install")
    (_hooks(pv_repo) / "pre-commit").write_text(hook_script("pre-commit", "/old/venv/bin/python"))
    res = pv.ok("install")
    assert "Kept the existing" not in res.stdout
    assert (_hooks(pv_repo) / "pre-push.legacy").read_text() == FOREIGN
    assert f"PV_PYTHON={sys.executable}\n" in (_hooks(pv_repo) / "pre-commit").read_text()
    assert (pv_repo / ".gitattributes").read_text().count("pv.lock merge=pipever") == 1


def test_install_refuses_to_overwrite_an_existing_legacy_hook(pv_repo: Path, pv: PvRunner) -> None:
    (_hooks(pv_repo) / "post-checkout").write_text(FOREIGN)
    (_hooks(pv_repo) / "post-checkout.legacy").write_text("#!/bin/sh\n")
    res = pv("install")
    assert res.exit_code == 1
    assert res.stderr.startswith("ERROR: cannot chain the existing 'post-checkout' hook: ")
    assert "--use-pre-commit-tool" in res.stderr
    assert not (_hooks(pv_repo) / "pre-commit").exists()  # nothing was touched


def test_install_respects_core_hooks_path(pv_repo: Path, pv: PvRunner) -> None:
    git("config", "core.hooksPath", "githooks")
    res = pv.ok("install")
    assert str(pv_repo / "githooks") in res.stdout
    assert all((pv_repo / "githooks" / name).is_file() for name in HOOKS)
    assert not (_hooks(pv_repo) / "pre-commit").exists()
    gen({"data.csv": "v1"})
    pv.ok("add", "data.csv")
    git("commit", "-qm", "data")
    gen({"data.csv": "v2"})
    commit = git_run("commit", "-q", "--allow-empty", "-m", "x")
    assert commit.returncode == 1 and "ERROR: 'data.csv' changed" in commit.stderr
    pv.ok("uninstall")
    assert [p.name for p in (pv_repo / "githooks").iterdir()] == []


def test_uninstall_leaves_a_hook_that_is_not_pvs(pv_repo: Path, pv: PvRunner) -> None:
    pv.ok("install")
    (_hooks(pv_repo) / "pre-push").write_text(FOREIGN)
    res = pv.ok("uninstall")
    assert "WARNING: the pre-push hook is not pv's: left in place" in res.stderr
    assert (_hooks(pv_repo) / "pre-push").read_text() == FOREIGN


def test_hook_with_a_missing_interpreter_says_to_reinstall(pv_repo: Path) -> None:
    from pipever.commands.githooks.install import install

    install(Repo(pv_repo), python=str(pv_repo / "gone" / "python"))
    commit = git_run("commit", "--allow-empty", "-m", "x")
    assert commit.returncode == 1
    assert "was not found; rerun 'pv install' in the environment that has pipever" in commit.stderr


def test_install_needs_git(tmp_dir: Path, pv: PvRunner) -> None:
    pv.ok("init", "--no-scm")
    res = pv("install")
    assert res.exit_code == 1
    assert res.stderr.startswith("ERROR: '") and "is not inside a Git work tree" in res.stderr


CONFIG = """\
# my hooks
repos:
  - repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v4.5.0
    hooks:
      - id: trailing-whitespace  # keep this comment
"""


def test_install_use_pre_commit_tool_appends_hooks_and_uninstall_removes_them(pv_repo: Path, pv: PvRunner) -> None:
    import yaml

    (pv_repo / ".pre-commit-config.yaml").write_text(CONFIG)
    res = pv.ok("install", "--use-pre-commit-tool")
    assert "pre-commit install --hook-type pre-commit --hook-type pre-push --hook-type post-checkout" in res.stdout
    text = (pv_repo / ".pre-commit-config.yaml").read_text()
    assert text.startswith(CONFIG)
    repos = yaml.safe_load(text)["repos"]
    assert repos[0]["hooks"] == [{"id": "trailing-whitespace"}]
    assert repos[1]["repo"] == "local"
    assert [(h["id"], h["entry"], h["stages"]) for h in repos[1]["hooks"]] == [
        ("pv-pre-commit", "pv git-hook pre-commit", ["pre-commit"]),
        ("pv-pre-push", "pv git-hook pre-push", ["pre-push"]),
        ("pv-post-checkout", "pv git-hook post-checkout", ["post-checkout"]),
    ]
    assert not (_hooks(pv_repo) / "pre-commit").exists()  # the framework owns the hooks
    assert git("config", "merge.pipever.driver")
    pv.ok("install", "--use-pre-commit-tool")  # idempotent
    assert (pv_repo / ".pre-commit-config.yaml").read_text() == text

    pv.ok("uninstall")
    assert (pv_repo / ".pre-commit-config.yaml").read_text() == CONFIG


def test_install_use_pre_commit_tool_creates_the_config_and_uninstall_deletes_it(pv_repo: Path, pv: PvRunner) -> None:
    pv.ok("install", "--use-pre-commit-tool")
    assert (pv_repo / ".pre-commit-config.yaml").read_text().startswith("repos:\n# pipever hooks")
    pv.ok("uninstall")
    assert not (pv_repo / ".pre-commit-config.yaml").exists()


def test_install_stages_the_files_it_changes_and_uninstall_unstages_them(pv_repo: Path, pv: PvRunner) -> None:
    pv.ok("install")
    assert git("diff", "--cached", "--name-only").split() == [".gitattributes"]
    pv.ok("uninstall")
    assert git("status", "--porcelain") == ""
    pv.ok("install", "--use-pre-commit-tool")
    assert git("diff", "--cached", "--name-only").split() == [".gitattributes", ".pre-commit-config.yaml"]
    git("commit", "-qm", "hooks")
    pv.ok("uninstall")
    assert git("diff", "--cached", "--name-status").split() == ["D", ".gitattributes", "D", ".pre-commit-config.yaml"]


def test_install_without_autostage_stages_nothing(pv_repo: Path, pv: PvRunner) -> None:
    pv.ok("config", "core.autostage", "false")
    git("commit", "-qam", "no autostage")
    pv.ok("install")
    assert git("diff", "--cached", "--name-only") == ""
