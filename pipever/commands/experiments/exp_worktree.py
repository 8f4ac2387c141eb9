"""The temporary Git worktree an experiment runs in, and what it starts with.

Each run gets ``.pv/tmp/exp-runs/<unique>``: a detached worktree of the baseline commit (Git's
hooks off) whose ``.pv/config.local.yaml`` points ``cache.dir`` at the repository's own cache, so
inputs are checked out from the shared cache and outputs go into it. The user's files are never
touched. The worktree is removed (and unregistered) when the run ends, however it ends; one left
by a killed process is removed by the next ``pv exp`` command that takes the repo lock.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

from pipever import fsutil
from pipever.config import Config
from pipever.paths import resolve_inside
from pipever.context import PV_DIR, RepoContext

RUNS_DIR = "exp-runs"


def runs_dir(repo: RepoContext) -> Path:
    return repo.tmp_dir / RUNS_DIR


def remove_leftovers(repo: RepoContext) -> int:
    """Remove worktrees of runs that were killed; call with the repo lock held (no run is live)."""
    base = runs_dir(repo)
    if not base.is_dir():
        return 0
    removed = 0
    for entry in sorted(base.iterdir()):
        repo.git.worktree_remove(entry)
        removed += 1
    return removed


@contextlib.contextmanager
def temp_worktree(repo: RepoContext, baseline: str, files: Mapping[str, str | None]) -> Iterator[RepoContext]:
    """A ``RepoContext`` on a fresh worktree of ``baseline`` with ``files`` (repo-relative path -> text,
    None to delete) written over it, sharing ``repo``'s cache; removed on exit."""
    path = runs_dir(repo) / uuid.uuid4().hex[:12]
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        repo.git.worktree_add(path, baseline)
        _share_cache(repo, path)
        for rel, text in files.items():
            target = resolve_inside(path, rel)
            if text is None:
                fsutil.remove(target)
            else:
                fsutil.atomic_write_text(target, text)
        wt = RepoContext(path)
        wt.command = repo.command
        try:
            yield wt
        finally:
            wt.close()
    finally:
        repo.git.worktree_remove(path)


def _share_cache(repo: RepoContext, path: Path) -> None:
    """Give the worktree a ``.pv`` (even if the baseline commit has none) whose local config
    sends ``cache.dir`` to ``repo``'s cache; the user's own settings (config, local config with
    credentials, which never leave this machine) come along."""
    pv_dir = path / PV_DIR
    (pv_dir / "tmp").mkdir(parents=True, exist_ok=True)
    for name in ("config.yaml", "config.local.yaml", ".gitignore"):
        src = repo.pv_dir / name
        if src.is_file():
            shutil.copyfile(src, pv_dir / name)
    Config.load(pv_dir).set("local", "cache.dir", os.path.abspath(repo.cache_dir))
