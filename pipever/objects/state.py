"""The state database: (path, inode, size, mtime_ns) -> oid, so unchanged files are never re-hashed.

Kept in SQLite under ``.pv/tmp``. Paths are repo-relative. A row is trusted only when inode, size
and mtime all match the file's current stat. Rows are written in batches at the end of a command.
``StateNoop`` remembers nothing (read-only repositories).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from pipever.objects.oid import Oid

Key = tuple[int, int, int]  # inode, size, mtime_ns
RACY_NS = 50_000_000  # beyond the kernel's coarse clock tick
RACY_COARSE_NS = 2_000_000_000


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

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS state (path TEXT PRIMARY KEY, inode INTEGER, "
                "size INTEGER, mtime_ns INTEGER, oid TEXT) WITHOUT ROWID"
            )
            conn.execute("CREATE TABLE IF NOT EXISTS complete (oid TEXT PRIMARY KEY) WITHOUT ROWID")
            conn.execute("CREATE TABLE IF NOT EXISTS dirs (path TEXT PRIMARY KEY, fp TEXT, oid TEXT) WITHOUT ROWID")
            self._conn = conn
        return self._conn

    def _all(self) -> dict[str, tuple[Key, str]]:
        if self._loaded is None:
            rows = self._db().execute("SELECT path, inode, size, mtime_ns, oid FROM state")
            self._loaded = {p: ((i, s, m), o) for p, i, s, m, o in rows}
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
        db = self._db()
        rows = [(p, k[0], k[1], k[2], o) for p, (k, o) in self._pending.items()]
        db.execute("BEGIN")
        db.executemany("INSERT OR REPLACE INTO state VALUES (?, ?, ?, ?, ?)", rows)
        db.execute("COMMIT")
        if self._loaded is not None:
            self._loaded.update(self._pending)
        self._pending.clear()

    # -- directories: fingerprint of every file's (path, inode, size, mtime) -> manifest oid -------
    def get_dir(self, path: str, fingerprint: str) -> Oid | None:
        row = self._db().execute("SELECT fp, oid FROM dirs WHERE path = ?", (path,)).fetchone()
        return Oid.trusted(row[1]) if row is not None and row[0] == fingerprint else None

    def set_dir(self, path: str, fingerprint: str, oid: Oid) -> None:
        self._db().execute("INSERT OR REPLACE INTO dirs VALUES (?, ?, ?)", (path, fingerprint, oid.hex))

    # -- directories whose every object is known to be in the cache --------------------------------
    def is_complete(self, oid: Oid) -> bool:
        row = self._db().execute("SELECT 1 FROM complete WHERE oid = ?", (oid.hex,)).fetchone()
        return row is not None

    def mark_complete(self, oid: Oid) -> None:
        self._db().execute("INSERT OR IGNORE INTO complete VALUES (?)", (oid.hex,))

    def clear_complete(self) -> None:
        """Forget every mark (after objects were deleted from the cache, e.g. by gc)."""
        self._db().execute("DELETE FROM complete")

    def forget(self, paths: Iterable[str]) -> None:
        db = self._db()
        db.executemany("DELETE FROM state WHERE path = ?", [(p,) for p in paths])

    def close(self) -> None:
        self.flush()
        if self._conn is not None:
            self._conn.close()
            self._conn = None


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
