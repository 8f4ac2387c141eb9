"""``pv unprotect``: replace workspace links into the cache (hardlinks, symlinks, read-only files)
with writable copies, so the data can be edited without touching the cache.

The copy keeps the content's mtime and the execute bit, and the state db learns the new inode, so
``pv status`` does not re-hash the file afterwards.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pipever import fsutil
from pipever.errors import PvError, TargetError
from pipever.ops import tracked as trk
from pipever.paths import check_physical, is_inside
from pipever.repo import Repo


@dataclass
class UnprotectResult:
    paths: list[str] = field(default_factory=list)  # the repo-relative paths asked for
    files: list[str] = field(default_factory=list)  # files replaced by writable copies


def unprotect(repo: Repo, targets: list[str]) -> UnprotectResult:
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


def _exec_bits(repo: Repo, t: trk.Tracked) -> dict[str, bool]:
    """Execute bits a directory's manifest records (links into the cache cannot carry them)."""
    if not t.out.is_dir:
        return {}
    try:
        manifest = repo.odb.read_manifest(t.out.oid)
    except PvError:
        return {}
    return {f"{t.rel}/{e.path}": e.isexec for e in manifest.entries}


def unprotect_path(repo: Repo, rel: str, execs: Mapping[str, bool] | None = None) -> list[str]:
    """Unprotect a file, or every file below a directory; returns the files replaced. ``execs``
    gives the execute bit of files (by repo-relative path) when known."""
    full = repo.root / rel
    if full.is_dir() and not full.is_symlink():
        done = []
        for dirpath, _dirs, files in os.walk(full):
            for name in sorted(files):
                sub = Path(dirpath, name).relative_to(repo.root).as_posix()
                if unprotect_file(repo, sub, isexec=(execs or {}).get(sub)):
                    done.append(sub)
        return sorted(done)
    return [rel] if unprotect_file(repo, rel, isexec=(execs or {}).get(rel)) else []


def unprotect_file(repo: Repo, rel: str, *, isexec: bool | None = None) -> bool:
    """Replace ``rel`` by a private writable copy when it is a link into the cache, a hardlink or
    read-only; False when it already is a plain writable file (or not pv's to touch)."""
    full = repo.root / rel
    try:
        st = os.lstat(full)
    except FileNotFoundError:
        return False
    oid = None
    if stat.S_ISLNK(st.st_mode):
        parsed = repo.odb.oid_of_cache_path(os.path.realpath(full))
        if parsed is None or parsed[1]:
            return False  # a symlink the user made: not ours
        src = Path(os.path.realpath(full))
        # the copy has that oid only while the object's bytes are those pv verified (an edit
        # through the link changed the object itself): else status hashes the copy
        oid = parsed[0] if repo.state.get("\x00cache/" + parsed[0].hex, os.stat(src)) == parsed[0] else None
    elif stat.S_ISREG(st.st_mode):
        if st.st_nlink == 1 and st.st_mode & stat.S_IWUSR:
            return False
        oid = repo.state.get(rel, st)
        src = full
    else:
        return False
    content = os.stat(src)
    tmp = fsutil.tmp_name(full)
    try:
        fsutil.copy_file(src, tmp)
        executable = fsutil.is_executable(content.st_mode) if isexec is None else isexec
        os.chmod(tmp, 0o755 if executable else 0o644)
        os.utime(tmp, ns=(content.st_atime_ns, content.st_mtime_ns))
        os.replace(tmp, full)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if oid is not None:
        repo.state.set(rel, os.stat(full), oid)
    return True
