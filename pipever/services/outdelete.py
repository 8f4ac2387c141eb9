"""Deleting a tracked output from the workspace safely: only files whose content the cache holds,
and never what ``.pvignore`` leaves out of a tracked directory (``pv remove --outs``, ``pv stage``
edits that drop an out)."""

from __future__ import annotations

import contextlib
import os

from pipever import fsutil
from pipever.context import RepoContext
from pipever.objects.build import Hashed


def _current(repo: RepoContext, rel: str) -> list[Hashed]:
    """The files pv tracks at or below ``rel`` now (``.pvignore``d ones left out), hashed."""
    ws = repo.workspace
    full = repo.root / rel
    if full.is_dir() and not full.is_symlink():
        files = ws.walk(rel, repo.ignore)
    else:
        fs = ws.stat_file(rel)
        files = [fs] if fs is not None else []
    return ws.hash_files(files)


def unsaved_files(repo: RepoContext, rel: str) -> list[str]:
    """Files at or below ``rel`` whose current content is not in the cache."""
    return [h.rel for h in _current(repo, rel) if not repo.odb.exists(h.oid)]


def delete_out(repo: RepoContext, rel: str) -> None:
    """Delete the tracked files of ``rel`` (their content is in the cache) and the directories
    left empty. Files ``.pvignore`` leaves out of the directory are not pv's: they stay."""
    full = repo.root / rel
    if not full.is_dir() or full.is_symlink():
        fsutil.remove(full)
        return
    for h in _current(repo, rel):
        if repo.odb.exists(h.oid):
            os.unlink(repo.root / h.rel)
    for dirpath, _dirs, _files in os.walk(full, topdown=False):
        with contextlib.suppress(OSError):  # not empty: something pv does not track is there
            os.rmdir(dirpath)
