"""``pv init``: create ``.pv/`` with its config and .gitignore."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipever import fsutil
from pipever.errors import AlreadyInitializedError, NotAGitRepoError
from pipever.context import PV_DIR

GITIGNORE = "/cache/\n/tmp/\n/config.local.yaml\n"
PLOTS_DIR = "pv_plots"  # where 'pv plots show/diff' write their reports: never committed
CONFIG = "# pipever repository config: committed; put credentials in config.local.yaml (--local)\n"


@dataclass(frozen=True)
class InitResult:
    root: Path
    scm: bool


def init(path: Path, *, no_scm: bool = False, force: bool = False) -> InitResult:
    from pipever.git import Git, find_git_root

    root = path.resolve()
    git_root = find_git_root(root)
    if not no_scm:
        if git_root is None:
            raise NotAGitRepoError(str(path))
        root = git_root
    pv_dir = root / PV_DIR
    if pv_dir.exists() and not force:
        raise AlreadyInitializedError(str(root))
    (pv_dir / "tmp").mkdir(parents=True, exist_ok=True)
    (pv_dir / "cache").mkdir(parents=True, exist_ok=True)
    fsutil.atomic_write_text(pv_dir / ".gitignore", GITIGNORE)
    config = pv_dir / "config.yaml"
    if no_scm:
        fsutil.atomic_write_text(config, CONFIG + "core:\n  no_scm: true\n")
    elif not config.exists():
        fsutil.atomic_write_text(config, CONFIG)
    if not no_scm:
        from pipever.data.gitignore import add_entry

        changed = add_entry(root, PLOTS_DIR)
        Git(root).add([f"{PV_DIR}/.gitignore", f"{PV_DIR}/config.yaml", *([changed] if changed else [])])
    return InitResult(root, not no_scm)
