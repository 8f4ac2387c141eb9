"""``pv unprotect``: replace workspace links into the cache (hardlinks, symlinks, read-only files)
with writable copies, so the data can be edited without touching the cache.

The copying itself is ``services.writable``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from pipever.errors import PvError, TargetError
from pipever.services import tracked as trk
from pipever.services.writable import unprotect_path
from pipever.paths import check_physical, is_inside
from pipever.context import RepoContext


@dataclass
class UnprotectResult:
    paths: list[str] = field(default_factory=list)  # the repo-relative paths asked for
    files: list[str] = field(default_factory=list)  # files replaced by writable copies


def unprotect(repo: RepoContext, targets: list[str]) -> UnprotectResult:
    if not targets:
        raise TargetError("nothing to unprotect", hint="name tracked files or directories: 'pv unprotect data.csv'")
    todo: list[str] = []
    execs: dict[str, bool] = {}
    tracked = trk.all_tracked(repo)
    for arg in targets:
        rel = trk.resolve_target(repo, arg)
        selected = trk.select(repo, [arg], tracked=tracked)
        if not os.path.lexists(repo.root / rel):
            raise TargetError(f"'{rel}' does not exist", hint="'pv checkout' it first")
        check_physical(repo.root, rel)
        for t in selected:
            path = rel if is_inside(rel, t.rel) else t.rel
            if path not in todo:
                todo.append(path)
                execs.update(_exec_bits(repo, t))
    result = UnprotectResult(paths=todo)
    with repo.locked():
        for rel in todo:
            result.files.extend(unprotect_path(repo, rel, execs))
        repo.state.flush()
    return result


def _exec_bits(repo: RepoContext, t: trk.Tracked) -> dict[str, bool]:
    """Execute bits a directory's manifest records (links into the cache cannot carry them)."""
    if not t.out.is_dir:
        return {}
    try:
        manifest = repo.odb.read_manifest(t.out.oid)
    except PvError:
        return {}
    return {f"{t.rel}/{e.path}": e.isexec for e in manifest.entries}
