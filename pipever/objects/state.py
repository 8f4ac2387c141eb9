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
from collections.abc import Callable, Iterable
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


class StateDB:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._pending: dict[str, tuple[Key, str]] = {}
        self._loaded: dict[str, tuple[Key, str]] | None = None

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
                conn.execute("CREATE TABLE IF NOT EXISTS complete (oid TEXT PRIMARY KEY) WITHOUT ROWID")
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

    def set(self, path: str, st: os.stat_result, oid: Oid) -> None:
        # "racy" files modified within the timestamp granularity of now could change again
        # without a new mtime: don't vouch for them, they are simply hashed again next time
        if is_racy(st, time.time_ns()):
            return
        self._pending[path] = (stat_key(st), oid.hex)

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
    def is_complete(self, oid: Oid) -> bool:
        row = self._safely(lambda db: db.execute("SELECT 1 FROM complete WHERE oid = ?", (oid.hex,)).fetchone())
        return row is not None

    def mark_complete(self, oid: Oid) -> None:
        self._safely(lambda db: db.execute("INSERT OR IGNORE INTO complete VALUES (?)", (oid.hex,)))

    def clear_complete(self) -> None:
        """Forget every mark (after objects were deleted from the cache, e.g. by gc)."""
        self._safely(lambda db: db.execute("DELETE FROM complete"))

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

    def flush(self) -> None:
        self._pending.clear()

    def forget(self, paths: Iterable[str]) -> None:
        return None

    def close(self) -> None:
        return None
