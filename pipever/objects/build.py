"""Turn workspace files and directories into oids and manifests, reusing the state db.

Symlinks inside a directory are followed only when they resolve inside the work tree (or into the
cache, for links that pv itself made); anything else is refused, so adding a directory never reads
files from outside the repository.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat as statmod
from operator import itemgetter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple, Protocol
from pathlib import Path

from blake3 import blake3

from pipever.errors import FileSystemError, PathOutsideRepoError, TargetError
from pipever.fsutil import TMP_SUFFIX, is_executable, is_tmp_name
from pipever.objects import bulk
from pipever.objects.bulk import SMALL, batch_map, read_small
from pipever.objects.hashing import ON_BYTES, hash_file, reporting
from pipever.objects.manifest import Entry, Manifest
from pipever.objects.oid import Oid, oid_from_relpath
from pipever.objects.state import StateDB
from pipever.paths import check_utf8

if TYPE_CHECKING:
    from pipever.objects.odb import ObjectDB

log = logging.getLogger(__name__)
_hash_log = logging.getLogger("pipever.objects.hashing")

class Ignore(Protocol):
    """Decides which paths to leave out of a directory (``.pvignore``)."""

    def applies_below(self, rel_dir: str) -> bool: ...  # False: nothing below is ignored

    def __call__(self, rel: str, is_dir: bool) -> bool: ...  # True: leave it out


class FileStat(NamedTuple):  # a tuple: built once per file on hot paths
    rel: str  # repo-relative path of the file
    st: os.stat_result  # stat of the content (the link target for safe symlinks)
    cached_oid: Oid | None = None  # known from a symlink into the cache


class Hashed(NamedTuple):
    rel: str
    st: os.stat_result
    oid: Oid
    fresh: bool  # hashed now (not from the state db)


class Workspace:
    """Read access to the work tree at ``root`` with the cache at ``cache_root``."""

    def __init__(self, root: Path, cache_root: Path, state: StateDB) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)
        self.cache_root = os.path.realpath(cache_root)
        self.state = state
        self.dangling: list[str] = []  # symlinks to nothing that walks left out (add warns of them)

    # -- stat ---------------------------------------------------------------------------------
    def stat_file(self, rel: str) -> FileStat | None:
        """Stat one file (None when it does not exist); refuses symlinks that leave the repo."""
        abspath = os.path.join(self.root, rel)
        try:
            st = os.lstat(abspath)
        except FileNotFoundError:
            return None
        if statmod.S_ISLNK(st.st_mode):
            return self._follow(rel, abspath)
        return FileStat(rel, st)

    def _follow(self, rel: str, abspath: str) -> FileStat | None:
        real = os.path.realpath(abspath)
        if real.startswith(self.cache_root + os.sep):
            parsed = oid_from_relpath(real[len(self.cache_root) + 1:].replace(os.sep, "/"))
            try:
                st = os.stat(real)
            except FileNotFoundError:
                return None
            # the object's name is its oid only while its bytes are those pv verified (an edit
            # through the link changes the object itself): else the file is hashed
            trusted = parsed is not None and not parsed[1] and self.state.get("\x00cache/" + parsed[0].hex, st) == parsed[0]
            return FileStat(rel, st, parsed[0] if trusted and parsed is not None else None)
        inside = real.startswith(self.real_root + os.sep)
        rel_real = real[len(self.real_root) + 1:] if inside else ""
        top = rel_real.split(os.sep, 1)[0]
        if not inside or top in (".git", ".pv"):
            raise PathOutsideRepoError(rel, reason=f"is a symlink to '{real}', outside the work tree")
        try:
            st = os.stat(real)
        except FileNotFoundError:
            return None
        if statmod.S_ISDIR(st.st_mode):
            raise TargetError(f"'{rel}' is a symlink to a directory", hint="pipever does not follow directory symlinks; replace it with the directory or remove it")
        return FileStat(rel, st)

    def walk(self, rel_dir: str, ignore: Ignore | None = None) -> list[FileStat]:
        """Every regular file below ``rel_dir`` (repo-relative paths), sorted."""
        out: list[FileStat] = []
        append, new, no_oid = out.append, tuple.__new__, None  # bound once: the loop runs per file
        stack = [rel_dir]
        while stack:
            cur = stack.pop()
            try:
                it = os.scandir(os.path.join(self.root, cur))
            except NotADirectoryError:
                continue
            except OSError as exc:
                raise FileSystemError(f"cannot read the directory '{cur}'", exc, path=cur) from exc
            check = ignore if ignore is not None and ignore.applies_below(cur) else None
            prefix = cur + "/"
            with it:
                # the common case (a plain file, nothing ignored) is tested first: this loop runs
                # once per file on every status
                for entry in it:
                    name = entry.name
                    if name.endswith(TMP_SUFFIX) and is_tmp_name(name):  # left by a killed pv: never data
                        continue
                    if entry.is_file(follow_symlinks=False):
                        if check is None or not check(prefix + name, False):
                            append(new(FileStat, (prefix + name, entry.stat(follow_symlinks=False), no_oid)))
                    elif entry.is_dir(follow_symlinks=False):
                        if name == ".git" or (check is not None and check(prefix + name, True)):
                            continue
                        stack.append(prefix + name)
                    elif entry.is_symlink():
                        if check is None or not check(prefix + name, False):
                            fs = self._follow(prefix + name, entry.path)
                            if fs is not None:
                                out.append(fs)
                            else:
                                self.dangling.append(prefix + name)
        out.sort(key=itemgetter(0))  # by rel
        check_utf8([f[0] for f in out])  # a manifest records names as UTF-8
        return out

    # -- hash ---------------------------------------------------------------------------------
    def hash_files(
        self, files: Sequence[FileStat], *, jobs: int = 0, on_hashed: Callable[[int], None] | None = None,
        store: ObjectDB | None = None,
    ) -> list[Hashed]:
        """Oids of ``files``: from the state db when unchanged, hashed otherwise, in a few threads
        over batches of files. With ``store``, every file's object is also put into that cache
        (a small file from the same buffer it was hashed from). ``on_hashed`` gets the bytes done
        after each batch."""
        known = self.state.get_many((f.rel, f.st) for f in files)
        for i, f in enumerate(files):
            if f.cached_oid is not None:  # a symlink into the cache names its object
                known[i] = f.cached_oid
        if store is None:
            todo = [i for i, oid in enumerate(known) if oid is None]
        else:  # a known oid still needs its object in the cache
            exists = store.exists
            todo = [i for i, oid in enumerate(known) if oid is None or not exists(oid)]
        root, state = os.fspath(self.root), self.state
        small = [i for i in todo if files[i].st.st_size <= SMALL]
        big = [i for i in todo if files[i].st.st_size > SMALL]

        def small_batch(batch: Sequence[int]) -> list[tuple[str, bool]]:
            # may run in a forked process (no progress, state db or logging here: see below)
            return [_hash_small(root, files[i], known[i], store) for i in batch]

        def small_done(batch: Sequence[int], _: object) -> None:
            if on_hashed:
                on_hashed(sum(files[i].st.st_size for i in batch))

        def big_batch(batch: Sequence[int]) -> list[tuple[str, bool]]:
            with reporting(on_hashed):  # each window as it is hashed
                return [_hash_big(root, files[i], known[i], store, state) for i in batch]

        # -v logs every file hashed (as hashing.hash_file does): that stays in this process
        fork = not _hash_log.isEnabledFor(logging.DEBUG)
        many = fork and store is not None and len(small) >= bulk.FORK_MIN
        with store.bulk_writes() if many and store is not None else contextlib.nullcontext():
            done = dict(zip(small, batch_map(small_batch, small, jobs=jobs, fork=fork, on_batch=small_done)))
        done.update(zip(big, batch_map(big_batch, big, jobs=jobs)))
        if files:
            log.debug("%d file(s) hashed, %d known unchanged from the state db", len(todo), len(files) - len(todo))
        results: list[Hashed] = []
        fresh: list[tuple[str, os.stat_result, Oid]] = []
        for i, f in enumerate(files):
            got = done.get(i)
            if got is None:
                oid = known[i]
                assert oid is not None
                results.append(Hashed(f.rel, f.st, oid, False))
            else:
                hexd, hashed = got
                oid = Oid.trusted(hexd)
                results.append(Hashed(f.rel, f.st, oid, hashed))
                if hashed:
                    fresh.append((f.rel, f.st, oid))
        self.state.set_many(fresh)
        return results


def _hash_big(root: str, f: FileStat, known: Oid | None, store: ObjectDB | None, state: StateDB) -> tuple[str, bool]:
    """(hex digest, hashed now) of a file over ``SMALL``; with ``store`` it is put into that cache."""
    from pipever.objects.odb import ChangedWhileReadingError

    path = f"{root}{os.sep}{f.rel}"
    try:
        if store is not None:
            oid = store.add_file_hashing(Path(path), hashed_stat=f.st, display=f.rel, on_bytes=ON_BYTES.get())
            state.set_trusted("\x00cache/" + oid.hex, os.stat(store.strpath(oid)), oid)
            return oid.hex, known is None or oid != known
        oid = hash_file(path)
        after = os.stat(path)
        if (after.st_size, after.st_mtime_ns) != (f.st.st_size, f.st.st_mtime_ns):
            raise ChangedWhileReadingError(f.rel)
        return oid.hex, True
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise ChangedWhileReadingError(f.rel) from None  # it vanished or was replaced
    except OSError as exc:
        raise FileSystemError(f"cannot read '{f.rel}'", exc, path=f.rel) from exc


def _hash_small(root: str, f: FileStat, known: Oid | None, store: ObjectDB | None) -> tuple[str, bool]:
    """(hex digest, hashed now) of a file of at most ``SMALL``, read whole; with ``store`` its
    object is written into that cache from the same buffer. Runs in forked workers too: it
    touches only the files (and logs only where -v keeps it in the main process)."""
    from pipever.objects.odb import ChangedWhileReadingError

    path = f"{root}{os.sep}{f.rel}"
    size = f.st.st_size
    try:
        data = read_small(path, size, f.st.st_mtime_ns, check=store is None)  # stored: checked below
        if data is None:
            raise ChangedWhileReadingError(f.rel)
        hexd = blake3(data).hexdigest()
        if _hash_log.isEnabledFor(logging.DEBUG):  # -v: every file hashed, as hashing.hash_file logs it
            _hash_log.debug("hashed %s (%d bytes): blake3:%s", path, size, hexd)
        if store is not None:
            store.put_small(hexd, data, display=f.rel)
            # the cache holds exactly the bytes hashed; a file that changed since it was listed
            # (also while it was read) is refused, as its new content may be what the user meant
            after = os.stat(path)
            if after.st_size != size or after.st_mtime_ns != f.st.st_mtime_ns:
                raise ChangedWhileReadingError(f.rel)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise ChangedWhileReadingError(f.rel) from None  # it vanished or was replaced
    except OSError as exc:
        raise FileSystemError(f"cannot read '{f.rel}'", exc, path=f.rel) from exc
    return hexd, known is None or known.hex != hexd


def fingerprint(files: Sequence[FileStat]) -> str | None:
    """Digest of every file's (path, inode, size, mtime, mode, cached oid); None when one is racy.
    Built from packed integers, not text: it runs on every status of a large directory."""
    import time
    from array import array
    from itertools import chain
    from operator import attrgetter

    from blake3 import blake3

    from pipever.objects.state import RACY_COARSE_NS, is_racy

    now = time.time_ns()
    stats = [f.st for f in files]
    if stats and max(map(attrgetter("st_mtime_ns"), stats)) >= now - RACY_COARSE_NS and any(is_racy(st, now) for st in stats):
        return None
    numbers = array("q", chain.from_iterable(map(attrgetter("st_ino", "st_size", "st_mtime_ns", "st_mode"), stats)))
    digest = blake3(numbers.tobytes())
    digest.update("\0".join([f.rel for f in files]).encode("utf-8", "surrogateescape"))
    digest.update("\0".join([f.cached_oid.hex if f.cached_oid else "" for f in files]).encode())
    return digest.hexdigest()


def manifest_of(rel_dir: str, hashed: Sequence[Hashed]) -> Manifest:
    n = len(rel_dir) + 1
    return Manifest.build(
        Entry(h.rel[n:], h.oid, h.st.st_size, is_executable(h.st.st_mode)) for h in hashed
    )
