"""``pv install`` / ``pv uninstall``: Git hooks and the merge driver.

Hooks go where Git looks for them (``core.hooksPath`` respected). A hook script that is already
there and is not pv's is moved to ``<hook>.legacy`` and run first by pv's script (pre-commit's
way); ``pv uninstall`` moves it back, so exactly what was there before returns. The scripts run
the Python interpreter that ran ``pv install`` (``sys.executable``), so a ``pv`` living in a
virtualenv is found without activating it. With ``--use-pre-commit-tool`` the hooks are added to
``.pre-commit-config.yaml`` instead (see ``pipever.commands.githooks.precommit_config``).

The merge driver is registered in ``.git/config`` (``merge.pipever.*``) and assigned to
``pv.lock`` and ``*.pv`` in ``.gitattributes`` by a marked block that uninstall removes.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pipever.errors import GitError, NotAGitRepoError, PvError
from pipever.fsutil import atomic_write_text
from pipever.commands.githooks import precommit_config
from pipever.context import RepoContext

HOOKS = ("pre-commit", "pre-push", "post-checkout")
MARKER = "# pipever-hook-script"
DRIVER = "pipever"
ATTRIBUTES = ".gitattributes"
ATTR_BLOCK = (
    "# pipever: merge pv.lock and pointer files with pv's merge driver (added by 'pv install')\n"
    f"pv.lock merge={DRIVER}\n"
    f"*.pv merge={DRIVER}\n"
)


@dataclass
class InstallResult:
    hooks_dir: Path | None = None
    installed: list[str] = field(default_factory=list)  # hook names pv's scripts now serve
    chained: list[str] = field(default_factory=list)  # foreign hooks moved to <hook>.legacy
    pre_commit_config: Path | None = None  # with use_pre_commit_tool
    gitattributes_changed: bool = False


@dataclass
class UninstallResult:
    removed: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)  # <hook>.legacy moved back
    foreign: list[str] = field(default_factory=list)  # hooks that are not pv's: left alone
    pre_commit_config_changed: bool = False
    gitattributes_changed: bool = False


def _git_repo(repo: RepoContext) -> RepoContext:
    if not repo.scm:
        raise NotAGitRepoError(str(repo.root))
    return repo


def hooks_dir(repo: RepoContext) -> Path:
    """Where Git runs hooks from: ``core.hooksPath`` if set, else ``.git/hooks``."""
    where = repo.git.run("rev-parse", "--git-path", "hooks").decode().strip()
    return (repo.root / os.path.expanduser(where)).resolve()


def hook_script(name: str, python: str) -> str:
    """The script installed as hook ``name``: runs ``<name>.legacy`` first, then pv's hook."""
    run = f'"$PV_PYTHON" -m pipever git-hook {name} "$@"'
    if name == "pre-push":  # both hooks read the ref lines on stdin
        chain = (
            'if [ -x "$0.legacy" ]; then\n'
            "  pv_stdin=$(cat)\n"
            "  printf '%s\\n' \"$pv_stdin\" | \"$0.legacy\" \"$@\" || exit $?\n"
            f"  printf '%s\\n' \"$pv_stdin\" | {run}\n"
            "  exit $?\n"
            "fi\n"
        )
    elif name == "post-checkout":  # the checkout happened: run both whatever the legacy hook says
        chain = (
            'if [ -x "$0.legacy" ]; then\n'
            '  "$0.legacy" "$@"; legacy_status=$?\n'
            f"  {run} || exit $?\n"
            "  exit $legacy_status\n"
            "fi\n"
        )
    else:
        chain = 'if [ -x "$0.legacy" ]; then\n  "$0.legacy" "$@" || exit $?\nfi\n'
    return (
        "#!/bin/sh\n"
        f"{MARKER}: installed by 'pv install', removed by 'pv uninstall'.\n"
        f"# A {name} hook that was here before runs first, from '{name}.legacy'.\n"
        f"PV_PYTHON={shlex.quote(python)}\n"
        'if [ ! -x "$PV_PYTHON" ]; then\n'
        f"  echo \"pipever: '$PV_PYTHON' was not found; rerun 'pv install' in the environment that has pipever\" >&2\n"
        "  exit 1\n"
        "fi\n"
        f"{chain}exec {run}\n"
    )


def is_pv_hook(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return MARKER.encode() in f.read(4096)
    except OSError:
        return False


def install(repo: RepoContext, *, use_pre_commit_tool: bool = False, python: str | None = None) -> InstallResult:
    """Install pv's hooks (or add them to the pre-commit framework's config) and merge driver."""
    _git_repo(repo)
    python = python or sys.executable
    result = InstallResult()
    if use_pre_commit_tool:
        result.pre_commit_config = precommit_config.add_hooks(repo.root)
    else:
        result.hooks_dir = hooks_dir(repo)
        _install_scripts(result.hooks_dir, python, result)
    register_merge_driver(repo, python)
    result.gitattributes_changed = _add_attributes(repo.root)
    if repo.autostage:  # the committed files it changed, staged as 'pv add' stages pointers
        changed = [ATTRIBUTES] if result.gitattributes_changed else []
        if result.pre_commit_config is not None:
            changed.append(result.pre_commit_config.relative_to(repo.root).as_posix())
        _stage(repo, changed)
    return result


def _install_scripts(where: Path, python: str, result: InstallResult) -> None:
    plans: list[tuple[str, Path, bool]] = []
    for name in HOOKS:  # check everything before touching anything
        path, legacy = where / name, where / f"{name}.legacy"
        foreign = os.path.lexists(path) and not is_pv_hook(path)
        if foreign and os.path.lexists(legacy):
            raise PvError(
                f"cannot chain the existing '{name}' hook: '{legacy}' already exists",
                hint="move one of them away, or use 'pv install --use-pre-commit-tool' with the pre-commit framework",
            )
        plans.append((name, path, foreign))
    where.mkdir(parents=True, exist_ok=True)
    for name, path, foreign in plans:
        if foreign:
            os.replace(path, where / f"{name}.legacy")
            result.chained.append(name)
        atomic_write_text(path, hook_script(name, python))
        os.chmod(path, 0o755)
        result.installed.append(name)


def register_merge_driver(repo: RepoContext, python: str) -> None:
    driver = f"{shlex.quote(python)} -m pipever git-hook merge-driver --marker-size %L %O %A %B %P"
    repo.git.run("config", f"merge.{DRIVER}.name", "pipever: merge pv.lock and pointer files")
    repo.git.run("config", f"merge.{DRIVER}.driver", driver)


def _add_attributes(root: Path) -> bool:
    path = root / ATTRIBUTES
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if ATTR_BLOCK in text:
        return False
    if text and not text.endswith("\n"):
        text += "\n"
    atomic_write_text(path, text + ATTR_BLOCK)
    return True


def _remove_attributes(root: Path) -> bool:
    path = root / ATTRIBUTES
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if ATTR_BLOCK not in text:
        return False
    rest = text.replace(ATTR_BLOCK, "", 1)
    if rest.strip():
        atomic_write_text(path, rest)
    else:
        path.unlink()
    return True


def uninstall(repo: RepoContext) -> UninstallResult:
    """Remove what ``install`` added: pv's hook scripts (restoring ``.legacy`` ones), the pre-commit
    config block, the merge driver and the ``.gitattributes`` block."""
    _git_repo(repo)
    result = UninstallResult()
    where = hooks_dir(repo)
    for name in HOOKS:
        path, legacy = where / name, where / f"{name}.legacy"
        if os.path.lexists(path) and not is_pv_hook(path):
            result.foreign.append(name)
            continue
        if os.path.lexists(path):
            os.unlink(path)
            result.removed.append(name)
        if os.path.lexists(legacy) and name in result.removed:
            os.replace(legacy, path)
            result.restored.append(name)
    result.pre_commit_config_changed = precommit_config.remove_hooks(repo.root)
    try:
        repo.git.run("config", "--remove-section", f"merge.{DRIVER}")
    except GitError:
        pass  # not registered
    result.gitattributes_changed = _remove_attributes(repo.root)
    if repo.autostage:
        changed = [ATTRIBUTES] if result.gitattributes_changed else []
        changed += [precommit_config.CONFIG] if result.pre_commit_config_changed else []
        _stage(repo, changed)
    return result


def _stage(repo: RepoContext, paths: list[str]) -> None:
    """Stage edits of ``paths``, and their removal when uninstall deleted them."""
    repo.git.add([p for p in paths if (repo.root / p).exists()])
    gone = [p for p in paths if not (repo.root / p).exists()]
    if gone:
        repo.git.run("rm", "--cached", "-q", "--ignore-unmatch", "--", *gone)
