"""``pv get REPO PATH [-o OUT] [--rev R]``: download data from another pv repository, untracked.

PATH may be a tracked file or directory, a file or directory inside a tracked directory, or a
file Git tracks there. Only the objects it needs are brought into the cache (the caller's cache
when run inside a pv repository, so they are shared, else a temp one), then plain writable copies
are written to OUT (default: PATH's name in the current directory; an existing directory OUT
receives it inside, as DVC's ``get`` and ``cp`` do), which must not exist.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, replace
from pathlib import Path

from pipever import fsutil
from pipever.errors import TargetError
from pipever.objects.manifest import Manifest
from pipever.objects.odb import ObjectDB
from pipever.objects.oid import Oid
from pipever.commands.repos.extrepo import External, Located, open_external


@dataclass(frozen=True)
class Content:
    """The data a located path stands for, as objects in the cache."""

    oid: Oid  # the file's oid, or the (sub)directory's manifest oid
    size: int
    nfiles: int | None  # directories only
    files: tuple[tuple[str, Oid, bool], ...]  # (path below the target, oid, executable); "" for a file


@dataclass(frozen=True)
class GetResult:
    out: Path
    size: int
    nfiles: int | None
    rev_lock: str  # the commit the data was read at
    tracked: bool  # pv-tracked there (False: a file Git tracks)


def resolve(ext: External, loc: Located, *, jobs: int | None = None) -> Content:
    """Fetch what ``loc`` needs into ``ext``'s cache and describe it. A file Git tracks is stored
    in the cache too; a part of a tracked directory gets its own manifest there."""
    odb = ext.repo.odb
    if loc.out is None:
        data = ext.read_git_file(loc.rel)
        oid = odb.add_bytes(data)
        return Content(oid, len(data), None, (("", oid, ext.git_files()[loc.rel][1]),))
    out = loc.out
    ext.fetch([out], jobs=jobs)
    if not out.is_dir:
        size = out.size if out.size is not None else odb.path(out.oid).stat().st_size
        return Content(out.oid, size, None, (("", out.oid, False),))
    manifest = odb.read_manifest(out.oid)
    if loc.rel != out.rel:
        sub = loc.rel[len(out.rel) + 1:]
        exact = [e for e in manifest.entries if e.path == sub]
        if exact:
            e = exact[0]
            return Content(e.oid, e.size, None, (("", e.oid, e.isexec),))
        inside = [e for e in manifest.entries if e.path.startswith(sub + "/")]
        if not inside:
            raise TargetError(f"'{loc.rel}' is not in the tracked directory '{out.rel}' of '{ext.label}'",
                              hint=f"list it with 'pv ls {ext.url} {out.rel}'")
        manifest = Manifest.build(replace(e, path=e.path[len(sub) + 1:]) for e in inside)
    oid = odb.add_manifest(manifest)
    return Content(oid, manifest.size, manifest.nfiles, tuple((e.path, e.oid, e.isexec) for e in manifest.entries))


def materialize(odb: ObjectDB, content: Content, dest: Path) -> None:
    """Write writable copies of ``content`` at ``dest`` (a file, or a directory built aside and
    renamed into place)."""
    if content.nfiles is None:
        _, oid, isexec = content.files[0]
        _write(odb, oid, dest, isexec)
        return
    tmp = fsutil.tmp_name(dest)
    try:
        tmp.mkdir(parents=True)
        for rel, oid, isexec in content.files:
            _write(odb, oid, tmp / rel, isexec)
        os.replace(tmp, dest)
    except BaseException:
        fsutil.remove(tmp)
        raise


def _write(odb: ObjectDB, oid: Oid, dest: Path, isexec: bool) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = fsutil.tmp_name(dest)
    try:
        fsutil.copy_file(odb.path(oid), tmp)
        os.chmod(tmp, 0o755 if isexec else 0o644)
        os.replace(tmp, dest)
    except BaseException:
        fsutil.remove(tmp)
        raise


def default_out(path: str) -> str:
    return posixpath.basename(path.rstrip("/")) or path


def check_free(dest: Path) -> None:
    if os.path.lexists(dest):
        raise TargetError(f"'{dest}' already exists", hint="remove it, or choose another path with -o")


def get(
    url: str, path: str, *, out: Path | None = None, rev: str | None = None, cache_dir: Path | None = None,
    jobs: int | None = None,
) -> GetResult:
    """Download ``path`` of the pv repository ``url`` (at ``rev``) to ``out``."""
    dest = out if out is not None else Path(default_out(path))
    if dest.is_dir() and not dest.is_symlink():
        dest = dest / default_out(path)
    check_free(dest)
    with open_external(url, rev=rev, cache_dir=cache_dir) as ext:
        loc = ext.locate(path)
        content = resolve(ext, loc, jobs=jobs)
        check_free(dest)
        materialize(ext.repo.odb, content, dest)
        return GetResult(dest, content.size, content.nfiles, ext.sha, loc.out is not None)
