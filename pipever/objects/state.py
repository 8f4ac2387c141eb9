"""The state database: (path, inode, size, mtime_ns) -> oid, so unchanged files are never re-hashed.

Kept in SQLite under ``.pv/tmp``. Paths are repo-relative. A row is trusted only when inode, size
and mtime all match the file's current stat. Rows are written in batches at the end of a command.
``StateNoop`` remembers nothing (read-only repositories).

It is only a cache of hashes: a damaged database (not SQLite, corrupt pages, another schema) is
moved aside to ``state.db.damaged``, rebuilt empty, and the user warned once; files are hashed
again. A locked, read-only or full database is no damage and is reported as such.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from pipever.objects.oid import Oid

Key = tuple[int, int, int]  # inode, size, mtime_ns
RACY_NS = 50_000_000  # beyond the kernel's coarse clock tick
RACY_COARSE_NS = 2_000_000_000
T = TypeVar("T")
# OperationalErrors that say the database is busy or the machine said no, not that it is damaged
_NOT_DAMAGE = ("database is locked", "database table is locked", "disk i/o error", "unable to open",
               "readonly database", "database or disk is full", "interrupted", "out of memory")


def stat_key(st: os.stat_result) -> Key:
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def is_racy(st: os.stat_result, now_ns: int) -> bool:
    """Modified so recently that a further change might not move its mtime: not to be vouched
    for (it is simply hashed again next time)."""
    coarse = st.st_mtime_ns % 1_000_000_000 == 0  # a filesystem with 1 s timestamps
    return st.st_mtime_ns >= now_ns - (RACY_COARSE_NS if coarse else RACY_NS)


def cache_stamp(cache_dir: Path) -> str | None:
    """Identity and state of a cache: its path and the (inode, mtime) of ``blake3/`` and each
    shard directory; any object added or removed, by pv or anyone, changes it. None when a shard
    changed within the clock's granularity (a further change might not show)."""
    import hashlib

    base = cache_dir / "blake3"
    try:
        st = os.stat(base)
        parts = [f"{os.path.abspath(cache_dir)}|{st.st_ino}:{st.st_mtime_ns}"]
        newest = st.st_mtime_ns
        with os.scandir(base) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False):
                    sub = entry.stat(follow_symlinks=False)
                    parts.append(f"{entry.name}:{sub.st_ino}:{sub.st_mtime_ns}")
                    newest = max(newest, sub.st_mtime_ns)
    except FileNotFoundError:
        return None
    if newest >= time.time_ns() - (RACY_COARSE_NS if newest % 1_000_000_000 == 0 else RACY_NS):
        return None
    parts.sort()
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()


class StateDB:
    """``cache_dir`` (called when needed) is the cache whose completeness marks this keeps: a
    mark is trusted only while that cache is unchanged (see ``cache_stamp``)."""

    STAMP_TTL_NS = 1_000_000_000  # how long one reading of the cache's stamp is reused

    def __init__(self, path: Path, *, cache_dir: Callable[[], Path] | None = None) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._pending: dict[str, tuple[Key, str]] = {}
        self._loaded: dict[str, tuple[Key, str]] | None = None
        self._cache_dir = cache_dir
        self._stamp: tuple[int, str | None] | None = None

    def _cache_stamp(self, *, fresh: bool = False) -> str | None:
        if self._cache_dir is None:
            return None
        now = time.monotonic_ns()
        if fresh or self._stamp is None or now - self._stamp[0] > self.STAMP_TTL_NS:
            self._stamp = (now, cache_stamp(self._cache_dir()))
        return self._stamp[1]

    def _safely(self, op: Callable[[sqlite3.Connection], T]) -> T:
        """``op`` on the database; once more on a fresh one when this one is damaged."""
        try:
            return op(self._db())
        except sqlite3.DatabaseError as exc:
            if not is_damage(exc):
                raise
            self._set_aside(exc)
        return op(self._db())

    def _set_aside(self, exc: sqlite3.DatabaseError) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except sqlite3.Error:
                pass
            self._conn = None
        self._loaded = None
        aside = self.path.with_name(self.path.name + ".damaged")
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                os.replace(f"{self.path}{suffix}", f"{aside}{suffix}")
            except FileNotFoundError:
                pass
        from pipever import notices

        shown = self._shown(self.path)
        notices.warn(f"the state database '{shown}' is damaged ({exc}): moved aside to '{self._shown(aside)}' "
                     "and rebuilt — files are hashed again once")

    def _shown(self, path: Path) -> str:
        parts = path.parts
        return "/".join(parts[-3:]) if len(parts) >= 3 and parts[-3] == ".pv" else str(path)

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS state (path TEXT PRIMARY KEY, inode INTEGER, "
                    "size INTEGER, mtime_ns INTEGER, oid TEXT) WITHOUT ROWID"
                )
                conn.execute("DROP TABLE IF EXISTS complete")  # marks without the cache's stamp (trusted blindly)
                conn.execute("CREATE TABLE IF NOT EXISTS complete_in (oid TEXT PRIMARY KEY, stamp TEXT) WITHOUT ROWID")
                conn.execute("CREATE TABLE IF NOT EXISTS dirs (path TEXT PRIMARY KEY, fp TEXT, oid TEXT) WITHOUT ROWID")
            except sqlite3.Error:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _all(self) -> dict[str, tuple[Key, str]]:
        if self._loaded is None:
            def load(db: sqlite3.Connection) -> dict[str, tuple[Key, str]]:
                rows = db.execute("SELECT path, inode, size, mtime_ns, oid FROM state")
                return {p: ((i, s, m), o) for p, i, s, m, o in rows}

            self._loaded = self._safely(load)
        return self._loaded

    def get(self, path: str, st: os.stat_result) -> Oid | None:
        hit = self._pending.get(path) or self._all().get(path)
        if hit is not None and hit[0] == stat_key(st):
            return Oid.trusted(hit[1])
        return None

    def lookup(self, items: Sequence[tuple[str, os.stat_result]]) -> dict[str, Oid]:
        """``get`` for some paths: the oids recorded for those whose stat still matches. Only
        their rows are read (in batches), not the whole table (``get_many`` loads it all, for
        a walk of the workspace), unless it is loaded already."""
        found: dict[str, tuple[Key, str]] = {}
        if self._loaded is not None:
            table = self._loaded
            found = {p: table[p] for p, _ in items if p in table}
        else:
            paths = [p for p, _ in items]

            def load(db: sqlite3.Connection) -> dict[str, tuple[Key, str]]:
                rows: dict[str, tuple[Key, str]] = {}
                for at in range(0, len(paths), 500):
                    part = paths[at:at + 500]
                    query = f"SELECT path, inode, size, mtime_ns, oid FROM state WHERE path IN ({','.join('?' * len(part))})"
                    rows.update((p, ((i, s, m), o)) for p, i, s, m, o in db.execute(query, part))
                return rows

            found = self._safely(load)
        pending = self._pending
        out: dict[str, Oid] = {}
        for path, st in items:
            hit = pending.get(path) or found.get(path)
            if hit is not None and hit[0] == stat_key(st):
                out[path] = Oid.trusted(hit[1])
        return out

    def set(self, path: str, st: os.stat_result, oid: Oid) -> None:
        # "racy" files modified within the timestamp granularity of now could change again
        # without a new mtime: don't vouch for them, they are simply hashed again next time
        if is_racy(st, time.time_ns()):
            return
        self._pending[path] = (stat_key(st), oid.hex)

    def set_many(self, rows: Iterable[tuple[str, os.stat_result, Oid]]) -> None:
        """``set`` for many files at once: one clock reading, the racy test inlined."""
        now = time.time_ns()
        fine, coarse = now - RACY_NS, now - RACY_COARSE_NS
        pending = self._pending
        for path, st, oid in rows:
            m = st.st_mtime_ns
            if m >= fine or (m >= coarse and m % 1_000_000_000 == 0):  # is_racy
                continue
            pending[path] = ((st.st_ino, st.st_size, m), oid.hex)

    def get_many(self, items: Iterable[tuple[str, os.stat_result]]) -> list[Oid | None]:
        """``get`` for many files at once."""
        pending, rows, trusted = self._pending, self._all(), Oid.trusted
        out: list[Oid | None] = []
        append = out.append
        for path, st in items:
            hit = pending.get(path) or rows.get(path)
            if hit is not None and hit[0] == (st.st_ino, st.st_size, st.st_mtime_ns):
                append(trusted(hit[1]))
            else:
                append(None)
        return out

    def set_trusted(self, path: str, st: os.stat_result, oid: Oid) -> None:
        """Record without the racy-timestamp guard (cache objects, which nobody writes)."""
        self._pending[path] = (stat_key(st), oid.hex)

    def flush(self) -> None:
        if not self._pending:
            return
        rows = [(p, k[0], k[1], k[2], o) for p, (k, o) in self._pending.items()]

        def write(db: sqlite3.Connection) -> None:
            db.execute("BEGIN")
            try:
                db.executemany("INSERT OR REPLACE INTO state VALUES (?, ?, ?, ?, ?)", rows)
                db.execute("COMMIT")
            except sqlite3.Error:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

        self._safely(write)
        if self._loaded is not None:
            self._loaded.update(self._pending)
        self._pending.clear()

    # -- directories: fingerprint of every file's (path, inode, size, mtime) -> manifest oid -------
    def get_dir(self, path: str, fingerprint: str) -> Oid | None:
        row = self._safely(lambda db: db.execute("SELECT fp, oid FROM dirs WHERE path = ?", (path,)).fetchone())
        return Oid.trusted(row[1]) if row is not None and row[0] == fingerprint else None

    def set_dir(self, path: str, fingerprint: str, oid: Oid) -> None:
        self._safely(lambda db: db.execute("INSERT OR REPLACE INTO dirs VALUES (?, ?, ?)", (path, fingerprint, oid.hex)))

    # -- directories whose every object is known to be in the cache --------------------------------
    # A mark holds the cache's stamp when it was made: an object removed since (by hand, a disk
    # error, another tool) or another cache (PV_CACHE_DIR) makes it stale, and the directory is
    # checked again, object by object.
    def is_complete(self, oid: Oid) -> bool:
        stamp = self._cache_stamp()
        if stamp is None:
            return False
        row = self._safely(lambda db: db.execute("SELECT stamp FROM complete_in WHERE oid = ?", (oid.hex,)).fetchone())
        return row is not None and row[0] == stamp

    def mark_complete(self, oid: Oid) -> None:
        stamp = self._cache_stamp(fresh=True)  # the cache as it is now, after what was just written
        if stamp is not None:
            self._safely(lambda db: db.execute("INSERT OR REPLACE INTO complete_in VALUES (?, ?)", (oid.hex, stamp)))

    def clear_complete(self) -> None:
        """Forget every mark (after objects were deleted from the cache, e.g. by gc)."""
        self._safely(lambda db: db.execute("DELETE FROM complete_in"))

    def forget(self, paths: Iterable[str]) -> None:
        rows = [(p,) for p in paths]
        self._safely(lambda db: db.executemany("DELETE FROM state WHERE path = ?", rows))

    def close(self) -> None:
        self.flush()
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def is_damage(exc: sqlite3.DatabaseError) -> bool:
    """True when ``exc`` says the database file itself is bad (not SQLite, corrupt, another
    schema), not that it is busy or that the disk or permissions said no."""
    if isinstance(exc, (sqlite3.ProgrammingError, sqlite3.InterfaceError)):
        return False
    if isinstance(exc, sqlite3.OperationalError):
        return not str(exc).lower().startswith(_NOT_DAMAGE)
    return True


class StateNoop(StateDB):
    def __init__(self) -> None:
        super().__init__(Path(os.devnull))

    def is_complete(self, oid: Oid) -> bool:
        return False

    def get_dir(self, path: str, fingerprint: str) -> Oid | None:
        return None

    def set_dir(self, path: str, fingerprint: str, oid: Oid) -> None:
        return None

    def mark_complete(self, oid: Oid) -> None:
        return None

    def clear_complete(self) -> None:
        return None

    def get(self, path: str, st: os.stat_result) -> Oid | None:
        return None

    def get_many(self, items: Iterable[tuple[str, os.stat_result]]) -> list[Oid | None]:
        return [None for _ in items]

    def flush(self) -> None:
        self._pending.clear()

    def forget(self, paths: Iterable[str]) -> None:
        return None

    def close(self) -> None:
        return None
