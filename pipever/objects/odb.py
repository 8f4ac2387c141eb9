"""The content-addressed object database (the cache; remotes use the same layout).

Objects live at ``<root>/blake3/xx/<62 hex>`` (manifests with ``.dir``). They are written to a
temp name in their final directory and renamed into place, marked read-only, and never rewritten.
Every insert is verified: bytes copied from the workspace must still match the stat taken when
they were hashed; downloaded bytes are hashed before they are renamed into place.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat as statmod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pipever import fsutil
from pipever.errors import (
    CorruptObjectError,
    FileSystemError,
    ObjectNotFoundError,
    PvError,
)
from pipever.objects import bulk
from pipever.objects import manifest as mf
from pipever.objects.hashing import hash_bytes, hash_file, reporting
from pipever.objects.oid import ALGO, Oid, oid_from_relpath
from pipever.objects.state import StateDB


class ChangedWhileReadingError(PvError):
    def __init__(self, path: str) -> None:
        super().__init__(f"'{path}' changed while it was being added", hint="rerun the command when it is no longer being written")


@dataclass(frozen=True, slots=True)
class ObjectRef:
    oid: Oid
    is_dir: bool

    def __hash__(self) -> int:  # as Oid's: no tuple per call
        return hash(self.oid.hex) + self.is_dir

    @property
    def relpath(self) -> str:
        return self.oid.relpath(is_dir=self.is_dir)


_LIST_FROM = 2048  # lookups from which exists_check lists shards instead of a stat each
_DIRENT_BYTES = 64  # at least this much directory size per entry named by a 62-digit object name
_PARSED_MANIFESTS = 4  # read_manifest keeps the last few it parsed
_REMEMBER_WRITTEN = 100_000  # objects written into fresh shards that one ObjectDB remembers (~15 MB)


def _remove_all(staged: dict[str, str]) -> None:
    """Remove the staging shards that are still there (not renamed into place)."""
    for staging in staged.values():
        if os.path.lexists(staging):
            fsutil.remove(Path(staging))


class ObjectDB:
    """``shared_group`` (``cache.shared: group``): directories pv creates are group-writable
    with the setgid bit (new entries keep the directory's group), so a team or an HPC group can
    share one cache; objects are always readable by all (``0o444``)."""

    def __init__(self, root: Path, *, shared_group: bool = False) -> None:
        self.root = root
        self.shared_group = shared_group
        self._base = f"{root}{os.sep}{ALGO}{os.sep}"
        self._made_dirs: set[str] = set()
        # shards this process created, and what it wrote into them: no existence check per
        # object there (another process writing the same object at once renames identical,
        # verified bytes over it)
        self._fresh: set[str] = set()
        self._written: set[str] = set()
        self._staged: dict[str, str] = {}  # shard -> its staging directory, in bulk_writes
        self._staged_written: set[str] = set()
        self._manifests: dict[Oid, mf.Manifest] = {}  # the last few parsed (immutable)
        self._fix_mode = bulk.umask_strips(0o444)

    # -- naming ------------------------------------------------------------------------------
    def path(self, oid: Oid, *, is_dir: bool = False) -> Path:
        return self.root / oid.relpath(is_dir=is_dir)

    def strpath(self, oid: Oid, *, is_dir: bool = False) -> str:
        h = oid.hex
        return f"{self._base}{h[:2]}{os.sep}{h[2:]}" + (".dir" if is_dir else "")

    def exists(self, oid: Oid, *, is_dir: bool = False) -> bool:
        return os.path.exists(self.strpath(oid, is_dir=is_dir))

    def exists_check(self, lookups: int) -> Callable[[Oid], bool]:
        """``exists`` for ``lookups`` coming questions: one stat each, or for many, each shard
        they touch listed once (256 listings instead of 20k stats), unless a shard holds so
        many more objects than will be asked about it that stats are cheaper. What it lists is
        a snapshot: for callers holding the repo lock."""
        if lookups < _LIST_FROM:
            return self.exists
        per_shard = lookups / 256
        listed: dict[str, frozenset[str] | None] = {}
        base = self._base

        def exists(oid: Oid) -> bool:
            h = oid.hex
            shard = h[:2]
            try:
                names = listed[shard]
            except KeyError:
                names = None
                try:
                    if os.stat(base + shard).st_size // _DIRENT_BYTES <= 16 * per_shard + 256:
                        names = frozenset(os.listdir(base + shard))
                except FileNotFoundError:
                    names = frozenset()
                except OSError:
                    pass  # a stat each, which says what is wrong
                listed[shard] = names
            if names is None:
                return os.path.exists(f"{base}{shard}{os.sep}{h[2:]}")
            return h[2:] in names

        return exists

    def _prepare_dir(self, oid: Oid) -> Path:
        d = self.root / ALGO / oid.hex[:2]
        key = oid.hex[:2]
        if key not in self._made_dirs:
            try:
                self.make_dirs(d)
            except OSError as exc:
                raise FileSystemError(f"cannot write into the cache ('{d}')", exc, path=str(d)) from exc
            self._made_dirs.add(key)
        return d

    @contextlib.contextmanager
    def bulk_writes(self) -> Iterator[None]:
        """Around many writes, by this process's threads or by forked copies of it
        (``bulk.batch_map(fork=True)``): each shard the cache lacks is built under a temp name
        next to its place, its objects written there under their own names (no temp file and
        rename each, no existence check), and it is renamed into place when the block ends.
        Nobody sees a half-written object: a staging shard appears whole, or (on an error, an
        interrupt) is removed; one left by a killed process is a temp name ``pv gc`` removes.
        Shards that exist take the usual temp file and rename per object."""
        if self._staged:  # nested (or another thread's): the outer block commits
            yield
            return
        from pipever.concurrency import deferred_sigint

        staged: dict[str, str] = {}
        with deferred_sigint() as interrupted:  # Ctrl-C while staging shards are made: none left
            try:
                for i in range(256):
                    shard = f"{i:02x}"
                    if shard in self._made_dirs or os.path.isdir(f"{self._base}{shard}"):
                        continue
                    staging = bulk.tmp_sibling(self._base.rstrip(os.sep), shard)
                    self.make_dirs(Path(staging))
                    staged[shard] = staging
            except OSError as exc:
                _remove_all(staged)
                raise FileSystemError(f"cannot write into the cache ('{self.root}')", exc, path=str(self.root)) from exc
            if interrupted.is_set():
                _remove_all(staged)
                raise KeyboardInterrupt
        self._staged = staged
        done = False
        try:
            yield
            done = True
        finally:
            with deferred_sigint() as interrupted:  # and while they are renamed into place
                self._staged = {}
                self._staged_written.clear()
                try:
                    if done:
                        self._commit_staged(staged)
                finally:
                    _remove_all(staged)  # what is not in place: after an error, or none
            if done and interrupted.is_set():
                raise KeyboardInterrupt

    def _commit_staged(self, staged: dict[str, str]) -> None:
        """Rename each staging shard into place; where a shard appeared meanwhile (another repo
        sharing this cache), move its objects in one by one (the same names hold the same bytes)."""
        for shard, staging in staged.items():
            final = f"{self._base}{shard}"
            try:
                try:
                    os.rename(staging, final)
                except OSError as exc:
                    if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                        raise
                    for name in os.listdir(staging):
                        os.replace(os.path.join(staging, name), os.path.join(final, name))
                    os.rmdir(staging)
            except OSError as exc:
                raise FileSystemError(f"cannot write into the cache ('{final}')", exc, path=final) from exc
            self._made_dirs.add(shard)

    def make_dirs(self, d: Path) -> None:
        """``mkdir -p d``; with ``shared_group``, each directory created is made ``rwxrwsr-x``."""
        if not self.shared_group:
            d.mkdir(parents=True, exist_ok=True)
            return
        missing: list[Path] = []
        cur = d
        while not cur.is_dir():
            missing.append(cur)
            if cur.parent == cur:
                break
            cur = cur.parent
        for m in reversed(missing):
            try:
                m.mkdir()
            except FileExistsError:
                if not m.is_dir():
                    raise
                continue  # made meanwhile by another process, which set its mode
            os.chmod(m, 0o2775)

    # -- inserting ---------------------------------------------------------------------------
    def add_file(self, src: Path, oid: Oid, *, hashed_stat: os.stat_result, display: str) -> bool:
        """Copy workspace file ``src`` (hashed as ``oid`` when it had ``hashed_stat``) into the cache.

        Returns False when the object was already there. Raises ChangedWhileReadingError when the
        file changed between hashing and copying (nothing is inserted then).
        """
        dst = self.path(oid)
        if os.path.exists(dst):
            return False
        self._prepare_dir(oid)
        tmp = fsutil.tmp_name(dst)
        try:
            fsutil.copy_file(src, tmp)
            _check_unchanged(src, hashed_stat, display)
            os.chmod(tmp, 0o444)
            os.replace(tmp, dst)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if isinstance(exc, OSError):
                raise self._copy_error(exc, src, display) from exc
            raise
        return True

    def _copy_error(self, exc: OSError, src: Path, display: str) -> PvError:
        """What went wrong copying workspace file ``src`` into the cache, said for the user."""
        reading = exc.filename is not None and os.fspath(exc.filename) == os.fspath(src) and exc.filename2 is None
        if reading and not fsutil.is_enospc(exc):
            if exc.errno in (errno.ENOENT, errno.EISDIR, errno.ENOTDIR):
                return ChangedWhileReadingError(display)
            return FileSystemError(f"cannot read '{display}'", exc, path=display)
        return FileSystemError(f"cannot copy '{display}' into the cache ('{self.root}')", exc, path=display)

    def add_file_hashing(self, src: Path, *, hashed_stat: os.stat_result, display: str,
                         on_bytes: Callable[[int], None] | None = None) -> Oid:
        """Hash ``src`` and store it; for large files the copy into the cache runs while hashing.

        The file must still have ``hashed_stat`` afterwards, or ChangedWhileReadingError."""
        if hashed_stat.st_size < OVERLAP_MIN:
            try:
                with reporting(on_bytes):
                    oid = hash_file(src)
            except OSError as exc:
                raise self._copy_error(exc, src, display) from exc
            _check_unchanged(src, hashed_stat, display)
            self.add_file(src, oid, hashed_stat=hashed_stat, display=display)
            return oid
        import threading

        base = self.root / ALGO
        self.make_dirs(base)
        tmp = fsutil.tmp_name(base / "incoming")
        errors: list[BaseException] = []

        def copy() -> None:
            try:
                fsutil.copy_file(src, tmp)
            except BaseException as exc:  # reported below
                errors.append(exc)

        worker = threading.Thread(target=copy, daemon=True)
        worker.start()
        try:
            with reporting(on_bytes):
                oid = hash_file(src)
            worker.join()
            if errors:
                raise errors[0]
            _check_unchanged(src, hashed_stat, display)
            dst = self.path(oid)
            if not os.path.exists(dst):
                self._prepare_dir(oid)
                os.chmod(tmp, 0o444)
                os.replace(tmp, dst)
        except OSError as exc:
            raise self._copy_error(exc, src, display) from exc
        finally:
            worker.join()
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return oid

    def add_bytes(self, data: bytes, *, is_dir: bool = False) -> Oid:
        oid = hash_bytes(data)
        dst = self.path(oid, is_dir=is_dir)
        if not os.path.exists(dst):
            self._prepare_dir(oid)
            fsutil.atomic_write(dst, data, mode=0o444)
        return oid

    def put_small(self, hexd: str, data: bytes, *, display: str) -> bool:
        """Store ``data``, whose BLAKE3 is ``hexd`` (the caller hashed exactly these bytes), as a
        file object unless the cache has it; True when it was written. FileSystemError naming
        ``display`` (the workspace path) when the cache cannot take it."""
        try:
            return self._put(hexd, data, is_dir=False)
        except OSError as exc:
            raise FileSystemError(f"cannot copy '{display}' into the cache ('{self.root}')", exc, path=display) from exc

    def insert_verified_bytes(self, oid: Oid, data: bytes, *, is_dir: bool = False, missing: bool = False) -> bool:
        """Store downloaded ``data`` that the caller verified hashes to ``oid`` (and, for a
        directory, parses as a manifest) unless the cache has it; True when it was written.
        ``missing``: the caller found the object missing just before, so it is written without
        looking again (a copy that appeared meanwhile holds the same verified bytes)."""
        try:
            return self._put(oid.hex, data, is_dir=is_dir, look=not missing)
        except OSError as exc:
            raise FileSystemError(f"cannot store object {oid} in the cache ('{self.root}')", exc) from exc

    def _put(self, hexd: str, data: bytes, *, is_dir: bool, look: bool = True) -> bool:
        """The write of ``put_small``: one temp file in the object's shard, made read-only and
        renamed to the object's name. OSError as the OS raises it; no temp file stays."""
        shard = hexd[:2]
        staging = self._staged.get(shard)
        if staging is not None:  # a shard built for bulk_writes: nothing else is in it
            return self._put_staged(f"{staging}{os.sep}{hexd[2:]}" + (".dir" if is_dir else ""), data)
        d = f"{self._base}{shard}"
        dst = f"{d}{os.sep}{hexd[2:]}" + (".dir" if is_dir else "")
        if shard in self._fresh:  # a shard this process made: it holds what was written here
            if dst in self._written:
                return False
        elif look and os.path.exists(dst):
            return False
        tmp = bulk.tmp_sibling(d, hexd[2:])
        try:
            try:
                bulk.write_new(tmp, data, 0o444, fix_mode=self._fix_mode)
            except FileNotFoundError:  # first object of its shard
                self._prepare_dir(Oid.trusted(hexd))
                self._fresh.add(shard)
                bulk.write_new(tmp, data, 0o444, fix_mode=self._fix_mode)
            except FileExistsError:  # another process with the same temp-name tag
                tmp = str(fsutil.tmp_name(Path(dst)))
                bulk.write_new(tmp, data, 0o444, fix_mode=self._fix_mode)
            os.replace(tmp, dst)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        if shard in self._fresh:
            self._written.add(dst)
            if len(self._written) > _REMEMBER_WRITTEN:  # bounded memory: look on disk again from here
                self._fresh.clear()
                self._written.clear()
        return True

    def _put_staged(self, dst: str, data: bytes) -> bool:
        if dst in self._staged_written:
            return False
        try:
            bulk.write_new(dst, data, 0o444, fix_mode=self._fix_mode)
        except FileExistsError:  # another worker wrote it too, or one that died began it: redo it
            os.unlink(dst)
            bulk.write_new(dst, data, 0o444, fix_mode=self._fix_mode)
        if len(self._staged_written) < _REMEMBER_WRITTEN:
            self._staged_written.add(dst)
        return True

    def add_manifest(self, manifest: mf.Manifest) -> Oid:
        return self.add_bytes(mf.to_bytes(manifest), is_dir=True)

    def insert_verified(self, tmp: Path, oid: Oid, *, is_dir: bool = False) -> None:
        """Move a downloaded temp file into place after checking its hash; CorruptObjectError and
        the temp file deleted otherwise."""
        try:
            actual = hash_file(tmp)
            if actual != oid:
                raise CorruptObjectError(str(oid), where="download")
            if is_dir:
                mf.from_bytes(tmp.read_bytes(), what=str(oid))
            self._prepare_dir(oid)
            os.chmod(tmp, 0o444)
            os.replace(tmp, self.path(oid, is_dir=is_dir))
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if isinstance(exc, OSError):
                raise FileSystemError(f"cannot store object {oid} in the cache ('{self.root}')", exc) from exc
            raise

    def tmp_path_for(self, oid: Oid, *, is_dir: bool = False) -> Path:
        """A fresh temp name next to where ``oid`` goes (for downloads)."""
        self._prepare_dir(oid)
        return fsutil.tmp_name(self.path(oid, is_dir=is_dir))

    # -- reading -----------------------------------------------------------------------------
    def read_manifest(self, oid: Oid) -> mf.Manifest:
        p = self.path(oid, is_dir=True)
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            raise ObjectNotFoundError(str(oid)) from None
        if hash_bytes(data) != oid:
            raise CorruptObjectError(str(oid))
        parsed = self._manifests.get(oid)  # these very bytes parsed before (fetch, then checkout)
        if parsed is None:
            parsed = mf.from_bytes(data, what=str(oid))
            if len(self._manifests) >= _PARSED_MANIFESTS:
                self._manifests.pop(next(iter(self._manifests)))
            self._manifests[oid] = parsed
        return parsed

    def check(self, oid: Oid, *, is_dir: bool = False, state: StateDB | None = None) -> None:
        """CorruptObjectError unless the object still hashes to ``oid`` (ObjectNotFoundError when
        it is gone). With ``state``, an object whose stat is the one it had when it was last
        verified is not read again: a modification changes its size or mtime; bit rot does not,
        and is what ``pv fsck`` (which always re-reads) is for."""
        src = self.path(oid, is_dir=is_dir)
        try:
            st = os.stat(src)
        except FileNotFoundError:
            raise ObjectNotFoundError(str(oid)) from None
        key = "\x00cache/" + oid.hex + (".dir" if is_dir else "")
        if state is not None and state.get(key, st) == oid:
            return
        if hash_file(src) != oid:
            raise CorruptObjectError(str(oid))
        if state is not None:
            state.set_trusted(key, st, oid)

    def check_many(self, refs: Iterable[ObjectRef], state: StateDB) -> list[ObjectRef]:
        """``check`` with ``state`` for many objects: those that are corrupt or gone. The state
        rows of just these objects are read, in batches."""
        stats: list[tuple[str, os.stat_result]] = []
        todo: list[tuple[ObjectRef, str, os.stat_result]] = []
        bad: list[ObjectRef] = []
        for ref in refs:
            try:
                st = os.stat(self.strpath(ref.oid, is_dir=ref.is_dir))
            except FileNotFoundError:
                bad.append(ref)
                continue
            key = "\x00cache/" + ref.oid.hex + (".dir" if ref.is_dir else "")
            stats.append((key, st))
            todo.append((ref, key, st))
        known = state.lookup(stats)
        for ref, key, st in todo:
            if known.get(key) == ref.oid:
                continue
            try:
                actual = hash_file(self.path(ref.oid, is_dir=ref.is_dir))
            except FileNotFoundError:
                bad.append(ref)
                continue
            if actual != ref.oid:
                bad.append(ref)
            else:
                state.set_trusted(key, st, ref.oid)
        return bad

    def verify(self, oid: Oid, *, is_dir: bool = False) -> bool:
        """Re-hash an object; True when it matches its name."""
        try:
            return hash_file(self.path(oid, is_dir=is_dir)) == oid
        except FileNotFoundError:
            return False

    def iter_objects(self) -> Iterator[ObjectRef]:
        base = self.root / ALGO
        if not base.is_dir():
            return
        for shard in os.scandir(base):
            if not shard.is_dir() or len(shard.name) != 2:
                continue
            for entry in os.scandir(shard.path):
                parsed = oid_from_relpath(f"{ALGO}/{shard.name}/{entry.name}")
                if parsed is not None:
                    yield ObjectRef(*parsed)

    def remove(self, oid: Oid, *, is_dir: bool = False) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path(oid, is_dir=is_dir))

    def quarantine(self, oid: Oid, bad_dir: Path, *, is_dir: bool = False) -> Path:
        """Move a corrupt object out of the cache into ``bad_dir``."""
        bad_dir.mkdir(parents=True, exist_ok=True)
        dst = bad_dir / (oid.hex + (".dir" if is_dir else ""))
        os.replace(self.path(oid, is_dir=is_dir), dst)
        return dst

    def is_cache_path(self, real: str) -> bool:
        root = str(self.root.resolve())
        return real.startswith(root + os.sep)

    def oid_of_cache_path(self, real: str) -> tuple[Oid, bool] | None:
        root = str(self.root.resolve())
        if not real.startswith(root + os.sep):
            return None
        return oid_from_relpath(real[len(root) + 1:].replace(os.sep, "/"))


OVERLAP_MIN = 64 << 20


def _check_unchanged(src: Path, before: os.stat_result, display: str) -> None:
    try:
        after = os.stat(src)
    except (FileNotFoundError, NotADirectoryError):
        raise ChangedWhileReadingError(display) from None
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise ChangedWhileReadingError(display)


def is_regular(mode: int) -> bool:
    return statmod.S_ISREG(mode)
