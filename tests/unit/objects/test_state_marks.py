"""Completeness marks of the state db hold the cache's stamp (issue 16, case 9): an object that
left the cache, or another cache, makes a mark stale."""

from __future__ import annotations

import os
from pathlib import Path

from pipever.objects.hashing import hash_bytes
from pipever.objects.state import StateDB, cache_stamp

OLD = 1_600_000_000_123_456_789  # an mtime well in the past: not racy


def _cache(root: Path, *contents: bytes) -> Path:
    for c in contents:
        p = root / hash_bytes(c).relpath()
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(c)
    for d in [root / "blake3", *(root / "blake3").iterdir()]:
        os.utime(d, ns=(OLD, OLD))
    return root


def test_a_mark_holds_while_the_cache_is_unchanged_and_not_after(tmp_path: Path) -> None:
    cache = _cache(tmp_path / "cache", b"a", b"b")
    oid = hash_bytes(b"manifest")
    db = StateDB(tmp_path / "state.db", cache_dir=lambda: cache)
    db.mark_complete(oid)
    assert db.is_complete(oid)
    assert StateDB(tmp_path / "state.db", cache_dir=lambda: cache).is_complete(oid)  # kept across runs
    gone = cache / hash_bytes(b"a").relpath()
    gone.unlink()
    os.utime(gone.parent, ns=(OLD + 1, OLD + 1))
    assert not StateDB(tmp_path / "state.db", cache_dir=lambda: cache).is_complete(oid)


def test_a_mark_is_for_one_cache(tmp_path: Path) -> None:
    first = _cache(tmp_path / "first", b"a")
    second = _cache(tmp_path / "second", b"a")
    oid = hash_bytes(b"manifest")
    StateDB(tmp_path / "state.db", cache_dir=lambda: first).mark_complete(oid)
    assert not StateDB(tmp_path / "state.db", cache_dir=lambda: second).is_complete(oid)


def test_no_mark_while_the_cache_just_changed_or_without_a_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (cache / "blake3" / "00").mkdir(parents=True)  # modified now
    assert cache_stamp(cache) is None
    assert cache_stamp(tmp_path / "nowhere") is None
    db = StateDB(tmp_path / "state.db", cache_dir=lambda: cache)
    db.mark_complete(hash_bytes(b"m"))
    assert not db.is_complete(hash_bytes(b"m"))
    assert not StateDB(tmp_path / "s2.db").is_complete(hash_bytes(b"m"))
