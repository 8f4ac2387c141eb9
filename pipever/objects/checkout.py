"""Materialize cache objects in the workspace: plan (pure, what to create/replace/delete and what
would be lost) and apply (links or copies through temp names and renames).

A workspace file is replaced or deleted only when its current content is in the cache (so it can
be checked out again), unless ``force``. Every object is verified against its oid before it is
linked; a corrupt object is reported and never linked.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from blake3 import blake3

from pipever import fsutil
from pipever.errors import ConfigError, CorruptObjectError, FileSystemError, ObjectNotFoundError
from pipever.objects import bulk
from pipever.objects.hashing import hash_file
from pipever.objects.odb import ObjectDB
from pipever.objects.oid import Oid
from pipever.objects.state import StateDB

LINK_TYPES = ("reflink", "hardlink", "symlink", "copy")
COPIED, CORRUPT, LEFT = 0, 1, 2  # what Linker.copy_small did with each change


class Action(Enum):
    CREATE = "create"
    REPLACE = "replace"
    DELETE = "delete"
    RELINK = "relink"


@dataclass(frozen=True, slots=True)
class Change:
    rel: str  # repo-relative
    action: Action
    oid: Oid | None = None  # None for DELETE
    isexec: bool = False


@dataclass
class CheckoutPlan:
    changes: list[Change] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # would lose data not in the cache
    missing: list[str] = field(default_factory=list)  # target objects not in the cache
    remove_dirs: list[str] = field(default_factory=list)  # type changes: a dir where a file goes
    make_dirs: list[str] = field(default_factory=list)  # tracked directories with no files: must exist


def parse_link_types(value: object) -> list[str]:
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = list(value)
    else:
        raise ConfigError(f"cache.type must be a list or comma-separated string, got {value!r}", hint="e.g. 'pv config cache.type reflink,copy'")
    bad = [v for v in items if v not in LINK_TYPES]
    if bad or not items:
        raise ConfigError(f"unknown cache.type {bad or items!r}", hint="use reflink, hardlink, symlink or copy")
    return items


class Linker:
    """Links verified cache objects into the workspace with the first link type that works."""

    def __init__(self, root: Path, odb: ObjectDB, state: StateDB, link_types: Iterable[str]) -> None:
        self.root = root
        self.odb = odb
        self.state = state
        self.types = list(link_types)
        self.used: dict[str, int] = {}
        self._verified: set[Oid] = set()
        self._fix_mode = bulk.umask_strips(0o755)

    @property
    def protected(self) -> bool:
        """True when workspace files are shared with the cache (hardlink/symlink) and read-only."""
        return bool(self.types) and self.types[0] in ("hardlink", "symlink")

    def verify(self, oid: Oid) -> None:
        """CorruptObjectError unless the cache object still hashes to ``oid`` (cached by stat)."""
        if oid in self._verified:
            return
        path = self.odb.strpath(oid)
        try:
            small = os.stat(path).st_size <= bulk.SMALL
        except FileNotFoundError:
            raise ObjectNotFoundError(str(oid)) from None
        if not small:  # the state db knows large objects verified since they last changed
            self.odb.check(oid, state=self.state)
        elif hash_file(path) != oid:  # small ones are cheaper to re-hash than to look up
            raise CorruptObjectError(str(oid))
        self._verified.add(oid)

    def link(
        self, oid: Oid, rel: str, *, isexec: bool = False, only: str | None = None, staged: str | None = None,
    ) -> None:
        """Put cache object ``oid`` at ``rel`` (through a temp name); FileSystemError naming
        ``rel`` when the workspace cannot take it (disk full, permissions). ``staged``: the path
        to create instead, inside a staging directory no one else sees (no temp name needed)."""
        try:
            self._link(oid, rel, isexec=isexec, only=only, staged=staged)
        except OSError as exc:
            if only:  # link_in_place: trying a link type, the caller falls back
                raise
            raise FileSystemError(f"cannot write '{rel}'", exc, path=rel) from exc

    def _link(self, oid: Oid, rel: str, *, isexec: bool, only: str | None, staged: str | None = None) -> None:
        src = self.odb.path(oid)
        dst = self.root / rel if staged is None else Path(staged)
        if not dst.parent.is_dir():
            dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = fsutil.tmp_name(dst) if staged is None else dst
        last: OSError | None = None
        kinds = [only] if only else list(self.types)
        if isexec and not only:  # a shared inode cannot carry a per-path execute bit
            kinds = [k for k in kinds if k not in ("hardlink", "symlink")] or ["copy"]
        for kind in kinds:
            try:
                self._make(kind, src, tmp, isexec)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                if (fsutil.is_enospc(exc) or exc.errno in (errno.EACCES, errno.EROFS)) and kind == "copy":
                    raise
                last = exc
                if only:
                    raise
                if len(self.types) > 1:
                    self.types.remove(kind)  # this kind does not work here: don't try it again
                continue
            except BaseException:  # Ctrl-C mid-copy: no half-written temp file stays behind
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            try:
                if tmp is not dst:
                    os.replace(tmp, dst)
                    if kind == "hardlink" and os.path.lexists(tmp):  # dst was that very inode: rename did nothing
                        os.unlink(tmp)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            self.used[kind] = self.used.get(kind, 0) + 1
            st = os.stat(dst)
            self.state.set(rel, st, oid)
            return
        assert last is not None
        raise last

    def link_batch(
        self, changes: Sequence[Change], on_done: Callable[[Change], None] | None = None,
        staging: Staging | None = None,
    ) -> list[str]:
        """Link or copy the objects of ``changes`` (their directories exist); returns the paths
        whose object is corrupt (not written). While ``copy`` is the link type, small objects
        go through ``copy_small``. Files below a directory of ``staging`` are created in its
        staging copy, under their own name (nobody sees that directory until it is renamed
        into place)."""
        codes = self.copy_small(changes, staging) if self.types[0] == "copy" else [LEFT] * len(changes)
        corrupt, left = self.report_copied(changes, codes, on_done)
        return corrupt + self.link_each(left, on_done, staging)

    def report_copied(
        self, changes: Sequence[Change], codes: Sequence[int], on_done: Callable[[Change], None] | None = None,
    ) -> tuple[list[str], list[Change]]:
        """After ``copy_small`` gave ``codes`` for ``changes``: ``on_done`` for each copied one;
        returns the paths whose object is corrupt and the changes it left."""
        self.used["copy"] = self.used.get("copy", 0) + codes.count(COPIED)
        if on_done:
            for ch, code in zip(changes, codes):
                if code == COPIED:
                    on_done(ch)
        corrupt = [ch.rel for ch, code in zip(changes, codes) if code == CORRUPT]
        return corrupt, [ch for ch, code in zip(changes, codes) if code == LEFT]

    def link_each(
        self, changes: Sequence[Change], on_done: Callable[[Change], None] | None = None,
        staging: Staging | None = None,
    ) -> list[str]:
        """Link ``changes`` one by one, each object verified first (large ones by the state db);
        returns the paths whose object is corrupt."""
        corrupt: list[str] = []
        where = staging.path if staging else None
        for ch in changes:
            assert ch.oid is not None
            try:
                self.verify(ch.oid)
            except CorruptObjectError:
                corrupt.append(ch.rel)
                continue
            self.link(ch.oid, ch.rel, isexec=ch.isexec, staged=where(ch.rel) if where else None)
            if on_done:
                on_done(ch)
        return corrupt

    def copy_small(self, changes: Sequence[Change], staging: Staging | None = None) -> list[int]:
        """Copy the small objects of ``changes``: each is read once, verified against its oid
        and written from the same buffer. Returns a code per change: ``COPIED``, ``CORRUPT``
        (nothing written) or ``LEFT`` (a large object, for ``finish_batch``). Touches only
        files, so it runs in forked workers too (``apply``); safe to repeat."""
        codes: list[int] = []
        base, sep, root = self.odb.strpath, os.sep, os.fspath(self.root)
        where = staging.path if staging else None
        for ch in changes:
            oid = ch.oid
            assert oid is not None
            data = self._read_small(base(oid), oid)
            if data is None:
                codes.append(LEFT)
                continue
            if blake3(data).hexdigest() != oid.hex:
                codes.append(CORRUPT)
                continue
            codes.append(COPIED)
            mode = 0o755 if ch.isexec else 0o644
            staged = where(ch.rel) if where else None
            if staged is None:
                self._write(ch.rel, f"{root}{sep}{ch.rel}", data, mode)
                continue
            try:
                try:
                    bulk.write_new(staged, data, mode, fix_mode=self._fix_mode)
                except FileExistsError:  # a rerun of what a forked worker began: the staging
                    os.unlink(staged)  # directory is this checkout's own
                    bulk.write_new(staged, data, mode, fix_mode=self._fix_mode)
            except OSError as exc:
                raise FileSystemError(f"cannot write '{ch.rel}'", exc, path=ch.rel) from exc
        return codes

    @staticmethod
    def _read_small(path: str, oid: Oid) -> bytes | None:
        """The bytes of cache object ``path`` when it is small, else None; ObjectNotFoundError
        when it is gone."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise ObjectNotFoundError(str(oid)) from None
        try:
            size = os.fstat(fd).st_size
            if size > bulk.SMALL:
                return None
            return bulk.read_fd(fd, size)
        finally:
            os.close(fd)

    def _write(self, rel: str, dst: str, data: bytes, mode: int) -> None:
        """A copy of ``data`` at ``dst`` through a temp name; FileSystemError naming ``rel``."""
        tmp = bulk.tmp_sibling(os.path.dirname(dst), os.path.basename(dst))
        try:
            try:
                bulk.write_new(tmp, data, mode, fix_mode=self._fix_mode)
            except FileExistsError:  # another process with the same temp-name tag
                tmp = os.fspath(fsutil.tmp_name(Path(dst)))
                bulk.write_new(tmp, data, mode, fix_mode=self._fix_mode)
            os.replace(tmp, dst)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise FileSystemError(f"cannot write '{rel}'", exc, path=rel) from exc
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        # no state row: a file written just now has a racy mtime, which the state db never
        # vouches for (``StateDB.set``); it is hashed once by the next command that needs it

    def link_in_place(self, oid: Oid, rel: str) -> bool:
        """After add: replace a workspace file whose content is ``oid`` with a link to the cache
        object, when a link type before 'copy' works (a plain copy is already there). True when
        the file was replaced."""
        for kind in list(self.types):
            if kind == "copy":
                return False
            try:
                self.link(oid, rel, only=kind)
                return True
            except OSError:
                if len(self.types) > 1:
                    self.types.remove(kind)
        return False

    @staticmethod
    def _make(kind: str, src: Path, tmp: Path, isexec: bool) -> None:
        if kind == "copy":
            fsutil.copy_file(src, tmp)
            os.chmod(tmp, 0o755 if isexec else 0o644)
        elif kind == "reflink":
            fsutil.reflink(src, tmp)
            os.chmod(tmp, 0o755 if isexec else 0o644)
        elif kind == "hardlink":
            os.link(src, tmp)
        elif kind == "symlink":
            os.symlink(src, tmp)


class Staging:
    """Directories a checkout creates from nothing (``data/`` after ``rm -rf data``, a fresh
    clone): each is built under a temp name beside it, its files written under their own names
    (no temp file and rename per file, which is what creating many small files costs), then
    renamed into place in one step. A killed checkout leaves only the temp-named directory, which
    the next command that takes the repo lock removes (``fsutil.remove_tmp_files``)."""

    def __init__(self, root: Path, dirs: Iterable[str]) -> None:
        self.root = os.fspath(root)
        self.tops: dict[str, str] = {}  # repo-relative new directory -> its staging path
        known: dict[str, bool] = {}
        for d in sorted(set(dirs)):
            parts = d.split("/") if d else []
            for i in range(1, len(parts) + 1):
                a = "/".join(parts[:i])
                if a in self.tops:
                    break
                there = known.get(a)
                if there is None:
                    there = known[a] = os.path.lexists(os.path.join(self.root, a))
                if not there:
                    parent, name = os.path.split(os.path.join(self.root, a))
                    self.tops[a] = bulk.tmp_sibling(parent, name)
                    break

    def path(self, rel: str) -> str | None:
        """Where file ``rel`` is created: inside a staging directory, or None (in place)."""
        if not self.tops:
            return None
        at = rel.find("/")
        while at > 0:
            staged = self.tops.get(rel[:at])
            if staged is not None:
                return staged + os.sep + rel[at + 1:].replace("/", os.sep)
            at = rel.find("/", at + 1)
        return None

    def make_dirs(self, dirs: Iterable[str]) -> None:
        """Create the staging directories and ``dirs`` (repo-relative) inside them or in place."""
        for top in self.tops.values():
            os.makedirs(os.path.dirname(top), exist_ok=True)  # the root; every other parent exists
            os.mkdir(top)
        for d in sorted(set(dirs)):
            if not d:
                continue
            inside = self.path(d + "/.")
            target = os.path.dirname(inside) if inside is not None else os.path.join(self.root, d)
            os.makedirs(target, exist_ok=True)

    def commit(self) -> None:
        """Rename every staging directory into place."""
        for top, staged in self.tops.items():
            try:
                os.rename(staged, os.path.join(self.root, top))
            except OSError as exc:  # something appeared there meanwhile (not pv: it holds the lock)
                raise FileSystemError(f"cannot write '{top}'", exc, path=top) from exc

    def discard(self) -> None:
        """Remove what is left of the staging directories (copies of cache objects only)."""
        for staged in self.tops.values():
            fsutil.remove(Path(staged))


def apply(
    plan: CheckoutPlan, linker: Linker, *, on_done: Callable[[Change], None] | None = None, jobs: int = 0,
) -> list[str]:
    """Carry out ``plan``; returns the paths whose object turned out corrupt (not linked).

    Deletions go first (a file 'a' may have to go before 'a/b' can be created); links and copies
    then run in a few threads (``jobs``) over batches of files. Every object is verified before
    it is linked (see ``Linker.link_batch``)."""
    corrupt: list[str] = []
    root = linker.root
    for rel in plan.remove_dirs:
        fsutil.remove(root / rel)
    writes: list[Change] = []
    for ch in plan.changes:
        if ch.action is not Action.DELETE:
            writes.append(ch)
            continue
        p = root / ch.rel
        with contextlib.suppress(FileNotFoundError):
            os.unlink(p)
        fsutil.remove_empty_parents(p.parent, root)
        if on_done:
            on_done(ch)
    dirs = {os.path.dirname(ch.rel) for ch in writes}
    staging = Staging(root, dirs)
    try:
        staging.make_dirs(dirs)
        if writes:
            # the first on this thread, so the working link type is settled; the rest in a few
            # threads over batches (creating files is what costs on most disks)
            corrupt += linker.link_batch(writes[:1], on_done, staging)
            rest = writes[1:]
            if linker.types[0] == "copy" and len(rest) >= bulk.FORK_MIN:
                # small objects copied in forked workers; what they leave, and the reporting, here
                codes = bulk.batch_map(lambda batch: linker.copy_small(batch, staging), rest, jobs=jobs, fork=True)
                bad, left = linker.report_copied(rest, codes, on_done)
                corrupt += bad
                corrupt += bulk.batch_map(lambda batch: linker.link_each(batch, on_done, staging), left, jobs=jobs)
            else:
                corrupt += bulk.batch_map(lambda batch: linker.link_batch(batch, on_done, staging), rest, jobs=jobs)
        staging.commit()
    except BaseException:
        staging.discard()
        raise
    for rel in plan.make_dirs:  # after the deletions, which remove directories they leave empty
        if not (root / rel).is_dir():
            (root / rel).mkdir(parents=True)
            if on_done:
                on_done(Change(rel, Action.CREATE))
    return corrupt


def plan_file(
    plan: CheckoutPlan, rel: str, target: Oid, current: Oid | None, *,
    in_cache: Callable[[Oid], bool], force: bool, relink: bool, isexec: bool = False,
) -> None:
    """Add to ``plan`` what makes file ``rel`` hold ``target`` (``current``: its oid now, or None)."""
    if not in_cache(target):
        plan.missing.append(rel)
        return
    if current is None:
        plan.changes.append(Change(rel, Action.CREATE, target, isexec))
    elif current == target:
        if relink:
            plan.changes.append(Change(rel, Action.RELINK, target, isexec))
    elif force or in_cache(current):
        plan.changes.append(Change(rel, Action.REPLACE, target, isexec))
    else:
        plan.conflicts.append(rel)


def plan_dir(
    plan: CheckoutPlan, rel_dir: str, entries: Iterable[tuple[str, Oid, bool]],
    current: dict[str, Oid], *, in_cache: Callable[[Oid], bool], force: bool, relink: bool,
) -> None:
    """Add to ``plan`` what makes directory ``rel_dir`` hold exactly ``entries`` (path relative to
    the directory, oid, isexec). ``current`` maps the repo-relative paths of files there now to
    their oids. Files the new version no longer has are deleted when they are safe in the cache."""
    wanted: set[str] = set()
    for sub, oid, isexec in entries:
        rel = f"{rel_dir}/{sub}"
        wanted.add(rel)
        plan_file(plan, rel, oid, current.get(rel), in_cache=in_cache, force=force, relink=relink, isexec=isexec)
    for rel, oid in sorted(current.items()):
        if rel in wanted:
            continue
        if force or in_cache(oid):
            plan.changes.append(Change(rel, Action.DELETE))
        else:
            plan.conflicts.append(rel)
