"""Writable private copies of workspace files that are links into the cache (hardlinks, symlinks,
read-only files), for ``pv unprotect``, ``pv remove --outs`` and stages that rewrite persisted outs.

The copy keeps the content's mtime and the execute bit, and the state db learns the new inode, so
``pv status`` does not re-hash the file afterwards.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from pipever import fsutil
from pipever.context import RepoContext


def unprotect_path(repo: RepoContext, rel: str, execs: Mapping[str, bool] | None = None) -> list[str]:
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


def unprotect_file(repo: RepoContext, rel: str, *, isexec: bool | None = None) -> bool:
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
