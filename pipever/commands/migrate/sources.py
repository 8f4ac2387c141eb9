"""Where a DVC object's bytes come from, and bringing them into pv's cache verified.

A file object is looked for in DVC's cache (both layouts), then in the workspace (the file DVC
checked out, when it still has the recorded content), then on the DVC remote. Whatever the
source, its bytes must hash to the md5 DVC recorded (or, for DVC 2, the md5 of their CRLF->LF
form) before they enter pv's cache under their BLAKE3; a source that does not is skipped and
reported as corrupt when no other source has good bytes.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from pipever import fsutil
from pipever.errors import ManifestError
from pipever.commands.migrate.dvcobjects import DirEntry, Digest, dir_md5, hash_path, object_paths, parse_dir
from pipever.objects.odb import ObjectDB
from pipever.objects.oid import Oid
from pipever.remote.dvclayout import DvcRemote


@dataclass(frozen=True)
class Ingested:
    oid: Oid
    size: int
    source: str  # 'cache', 'workspace' or 'remote'


@dataclass
class Failure:
    what: str  # repo path the object is for
    md5: str
    corrupt: list[str] = field(default_factory=list)  # sources whose bytes did not match

    @property
    def reason(self) -> str:
        if self.corrupt:
            return "corrupt in " + " and ".join(self.corrupt) + " (md5 mismatch)"
        return "in neither DVC's cache nor its remote"


class ObjectNotAvailable(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.reason)
        self.failure = failure


class DvcObjects:
    """DVC's objects for one migration: its cache at ``cache_dir``, the work tree at ``root``, and
    an optional remote. Downloads of data go to ``tmp_dir`` first (in pv's cache, so that they
    are moved into place); ``.dir`` manifests are read into memory."""

    def __init__(self, root: Path, cache_dir: Path, remote: DvcRemote | None, tmp_dir: Path | None = None) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)
        self.cache_dir = cache_dir
        self.real_cache = os.path.realpath(cache_dir)
        self.remote = remote
        self.tmp_dir = tmp_dir
        self._remote_has: set[str] = set()

    # -- locating ---------------------------------------------------------------------------------
    def cache_path(self, md5: str, *, is_dir: bool, legacy: bool) -> Path | None:
        for rel in object_paths(md5, is_dir=is_dir, legacy=legacy):
            p = self.cache_dir / rel
            if p.is_file():
                return p
        return None

    def check_remote(self, wanted: list[tuple[str, bool, bool]]) -> None:
        """Ask the remote, in one go, which of ``(md5, is_dir, legacy)`` it holds."""
        if self.remote is None or not wanted:
            return
        rels = [rel for md5, is_dir, legacy in wanted for rel in object_paths(md5, is_dir=is_dir, legacy=legacy)]
        self._remote_has |= self.remote.existing(rels)

    def remote_path(self, md5: str, *, is_dir: bool, legacy: bool) -> str | None:
        return next((r for r in object_paths(md5, is_dir=is_dir, legacy=legacy) if r in self._remote_has), None)

    def workspace_file(self, rel: str | None) -> Path | None:
        """The work-tree file at ``rel`` when it is a regular file inside the work tree (or a
        link into DVC's cache)."""
        if rel is None:
            return None
        full = self.root / rel
        if not full.is_file():
            return None
        real = os.path.realpath(full)
        if not (real.startswith(self.real_root + os.sep) or real.startswith(self.real_cache + os.sep)):
            return None
        return full

    def available(self, md5: str, *, is_dir: bool, legacy: bool, workspace: str | None) -> bool:
        return (self.cache_path(md5, is_dir=is_dir, legacy=legacy) is not None
                or self.remote_path(md5, is_dir=is_dir, legacy=legacy) is not None
                or (not is_dir and self.workspace_file(workspace) is not None))

    # -- reading ----------------------------------------------------------------------------------
    def _candidates(self, md5: str, *, is_dir: bool, legacy: bool, workspace: str | None) -> list[tuple[str, Path | str]]:
        found: list[tuple[str, Path | str]] = []
        cached = self.cache_path(md5, is_dir=is_dir, legacy=legacy)
        if cached is not None:
            found.append(("DVC's cache", cached))
        ws = None if is_dir else self.workspace_file(workspace)
        if ws is not None:
            found.append(("the workspace", ws))
        on_remote = self.remote_path(md5, is_dir=is_dir, legacy=legacy)
        if on_remote is not None:
            found.append(("DVC's remote", on_remote))
        return found

    def _fetch(self, rel: str) -> Path:
        assert self.remote is not None and self.tmp_dir is not None  # set once pv's cache exists
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        tmp = fsutil.tmp_name(self.tmp_dir / "download")
        self.remote.download(rel, tmp)
        return tmp

    def ingest(self, md5: str, *, legacy: bool, what: str, workspace: str | None, odb: ObjectDB) -> Ingested:
        """Bring the file object ``md5`` into ``odb``, verified; ObjectNotAvailable otherwise."""
        failure = Failure(what, md5)
        for label, src in self._candidates(md5, is_dir=False, legacy=legacy, workspace=workspace):
            if isinstance(src, str):  # on the remote
                tmp = self._fetch(src)
                try:
                    digest = hash_path(tmp)
                    if not digest.matches(md5, legacy=legacy):
                        failure.corrupt.append(label)
                        continue
                    oid = Oid(digest.blake3)
                    if odb.exists(oid):
                        return Ingested(oid, digest.size, "remote")
                    odb.insert_verified(tmp, oid)
                    return Ingested(oid, digest.size, "remote")
                finally:
                    with contextlib.suppress(OSError):
                        os.unlink(tmp)
            st = os.stat(src)
            digest = hash_path(src)
            if not digest.matches(md5, legacy=legacy):
                failure.corrupt.append(label)
                continue
            oid = Oid(digest.blake3)
            odb.add_file(src, oid, hashed_stat=st, display=what)
            return Ingested(oid, digest.size, "cache" if label == "DVC's cache" else "workspace")
        raise ObjectNotAvailable(failure)

    def read_dir(self, md5: str, *, legacy: bool, what: str) -> list[DirEntry]:
        """The entries of the ``.dir`` manifest ``md5`` from DVC's cache or remote, verified."""
        failure = Failure(what, md5 + ".dir")
        for label, src in self._candidates(md5, is_dir=True, legacy=legacy, workspace=None):
            if isinstance(src, str):
                assert self.remote is not None
                data = self.remote.read_bytes(src)
            else:
                data = src.read_bytes()
            import hashlib

            if hashlib.md5(data).hexdigest() != md5:  # noqa: S324 - DVC's identity
                failure.corrupt.append(label)
                continue
            try:
                return parse_dir(data, what)
            except ManifestError:
                failure.corrupt.append(label)
        raise ObjectNotAvailable(failure)

    def workspace_dir(self, rel: str, md5: str, *, ignore: object | None = None) -> list[DirEntry] | None:
        """The entries of work-tree directory ``rel`` when its DVC md5 is ``md5`` (a directory
        whose ``.dir`` manifest is nowhere else); None otherwise."""
        entries = self.scan_dir(rel)
        if entries is None:
            return None
        if dir_md5((e.relpath, e.md5) for e in entries) != md5:
            return None
        return entries

    def scan_dir(self, rel: str) -> list[DirEntry] | None:
        """Every file below work-tree directory ``rel`` with its md5, as DVC lists a directory
        (``.dvcignore`` is not applied: a directory it shapes is found in the cache instead)."""
        base = self.root / rel
        if not base.is_dir() or base.is_symlink():
            return None
        out: list[DirEntry] = []
        for dirpath, dirs, files in os.walk(base):
            dirs[:] = sorted(d for d in dirs if d not in (".git", ".dvc", ".pv"))
            for name in files:
                full = os.path.join(dirpath, name)
                if os.path.islink(full) and self.workspace_file(os.path.relpath(full, self.root)) is None:
                    continue
                digest: Digest = hash_path(full)
                out.append(DirEntry(os.path.relpath(full, base).replace(os.sep, "/"), digest.md5))
        return sorted(out, key=lambda e: e.relpath)
