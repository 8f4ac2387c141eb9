"""The batched hot loops of add, status and checkout: one read per small file, what enters the
cache is what was hashed, nothing half-written left behind, exact modes whatever the umask."""

from __future__ import annotations

import json
import os
import sys
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from pipever.errors import FileSystemError
from pipever.fsutil import is_tmp_name, remove_tmp_files
from pipever.objects import bulk
from pipever.objects import manifest as mf
from pipever.objects.build import FileStat, Workspace
from pipever.objects.checkout import Action, Change, CheckoutPlan, Linker, Staging, apply
from pipever.objects.hashing import hash_bytes
from pipever.objects.odb import ChangedWhileReadingError, ObjectDB
from pipever.objects.oid import Oid
from pipever.objects.state import StateDB


@pytest.fixture
def umask_077() -> Iterator[None]:
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def _files(root: Path, n: int) -> list[str]:
    rels = []
    for i in range(n):
        rel = f"data/d{i % 7}/f{i:04d}.bin"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(f"content {i}\n".encode() * (1 + i % 50))
        rels.append(rel)
    return rels


def test_batch_map_keeps_order_over_batches_and_threads() -> None:
    seen_batches: list[int] = []

    def double(batch: Sequence[int]) -> list[int]:
        seen_batches.append(len(batch))
        return [2 * x for x in batch]

    items = list(range(5000))
    assert bulk.batch_map(double, items, jobs=3) == [2 * x for x in items]
    assert len(seen_batches) < 50  # batches, not one call per item
    assert bulk.batch_map(double, [], jobs=3) == []


def test_batch_map_raises_the_error_of_a_batch() -> None:
    def boom(batch: Sequence[int]) -> list[int]:
        if 777 in batch:
            raise ValueError("bad item")
        return list(batch)

    with pytest.raises(ValueError, match="bad item"):
        bulk.batch_map(boom, list(range(3000)), jobs=2)


def test_tmp_sibling_is_a_name_recovery_removes() -> None:
    names = {os.path.basename(bulk.tmp_sibling("/x", "abc")) for _ in range(1000)}
    assert len(names) == 1000
    assert all(is_tmp_name(n) for n in names)


def test_read_small_refuses_a_file_whose_stat_moved(tmp_path: Path) -> None:
    p = tmp_path / "f"
    p.write_bytes(b"12345")
    st = os.stat(p)
    assert bulk.read_small(str(p), st.st_size, st.st_mtime_ns) == b"12345"
    p.write_bytes(b"1234567")  # grew after it was listed
    assert bulk.read_small(str(p), st.st_size, st.st_mtime_ns) is None
    p.write_bytes(b"abcde")  # same size, new mtime: only the stat check sees it
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert bulk.read_small(str(p), st.st_size, st.st_mtime_ns) is None
    assert bulk.read_small(str(p), st.st_size, st.st_mtime_ns, check=False) == b"abcde"
    p.write_bytes(b"123")  # shrank: never the listed length
    assert bulk.read_small(str(p), st.st_size, st.st_mtime_ns, check=False) is None


def test_write_new_sets_the_exact_mode_under_a_strict_umask(tmp_path: Path, umask_077: None) -> None:
    bulk.write_new(str(tmp_path / "o"), b"x" * 100, 0o444, fix_mode=bulk.umask_strips(0o444))
    assert stat.S_IMODE(os.stat(tmp_path / "o").st_mode) == 0o444
    assert os.stat(tmp_path / "o").st_size == 100
    with pytest.raises(FileExistsError):  # never overwrites
        bulk.write_new(str(tmp_path / "o"), b"y", 0o444, fix_mode=False)
    assert (tmp_path / "o").read_bytes() == b"x" * 100


def test_put_small_stores_read_only_once_without_temp_files(tmp_path: Path, umask_077: None) -> None:
    odb = ObjectDB(tmp_path / "cache")
    data = b"hello\n"
    oid = hash_bytes(data)
    assert odb.put_small(oid.hex, data, display="x") is True
    assert odb.put_small(oid.hex, data, display="x") is False
    obj = odb.path(oid)
    assert obj.read_bytes() == data
    assert stat.S_IMODE(os.stat(obj).st_mode) == 0o444  # read-only, readable by all
    assert os.listdir(obj.parent) == [obj.name]


def test_put_small_names_the_workspace_file_when_the_cache_cannot_take_it(tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("a file where the cache directory should be")
    odb = ObjectDB(tmp_path / "cache")
    with pytest.raises(FileSystemError, match="cannot write into the cache|cannot copy 'data/a' into the cache"):
        odb.put_small(hash_bytes(b"a").hex, b"a", display="data/a")


def test_shared_group_cache_dirs_are_group_writable_with_setgid(tmp_path: Path, umask_077: None) -> None:
    odb = ObjectDB(tmp_path / "shared" / "cache", shared_group=True)
    oid = hash_bytes(b"team data")
    odb.put_small(oid.hex, b"team data", display="a")
    big = odb.add_bytes(b"manifest-ish", is_dir=True)
    for d in (tmp_path / "shared", tmp_path / "shared/cache", tmp_path / "shared/cache/blake3", odb.path(oid).parent, odb.path(big, is_dir=True).parent):
        mode = os.stat(d).st_mode
        assert mode & stat.S_ISGID and mode & stat.S_IWGRP and mode & stat.S_IRGRP and mode & stat.S_IXGRP, (d, oct(mode))
    for obj in (odb.path(oid), odb.path(big, is_dir=True)):
        assert stat.S_IMODE(os.stat(obj).st_mode) == 0o444


def test_private_cache_dirs_follow_the_umask(tmp_path: Path, umask_077: None) -> None:
    odb = ObjectDB(tmp_path / "cache")
    oid = hash_bytes(b"mine")
    odb.put_small(oid.hex, b"mine", display="a")
    assert stat.S_IMODE(os.stat(odb.path(oid).parent).st_mode) == 0o700


def _workspace(tmp_path: Path) -> tuple[Workspace, ObjectDB, StateDB]:
    state = StateDB(tmp_path / "state.db")
    return Workspace(tmp_path, tmp_path / "cache", state), ObjectDB(tmp_path / "cache"), state


def test_hash_files_with_store_puts_exactly_the_hashed_bytes(tmp_path: Path) -> None:
    rels = _files(tmp_path, 300)
    ws, odb, state = _workspace(tmp_path)
    hashed = ws.hash_files(ws.walk("data"), store=odb, jobs=3)
    assert [h.rel for h in hashed] == sorted(rels)
    for h in hashed:
        assert h.fresh
        assert h.oid == hash_bytes((tmp_path / h.rel).read_bytes())
        assert odb.path(h.oid).read_bytes() == (tmp_path / h.rel).read_bytes()


def test_hash_files_reuses_known_oids_and_restores_missing_objects(tmp_path: Path) -> None:
    _files(tmp_path, 40)
    ws, odb, state = _workspace(tmp_path)
    files = ws.walk("data")
    known = {f.rel: hash_bytes((tmp_path / f.rel).read_bytes()) for f in files}
    for f in files:
        state.set_trusted(f.rel, f.st, known[f.rel])
    again = ws.hash_files(files)
    assert all(not h.fresh for h in again)  # unchanged files are never re-hashed
    assert not (tmp_path / "cache").exists()
    stored = ws.hash_files(files, store=odb)  # known oids whose objects are missing: stored
    assert all(odb.path(h.oid).read_bytes() == (tmp_path / h.rel).read_bytes() for h in stored)


def test_hash_files_refuses_a_file_changed_after_it_was_listed(tmp_path: Path) -> None:
    _files(tmp_path, 50)
    ws, odb, state = _workspace(tmp_path)
    files = ws.walk("data")
    victim = tmp_path / files[25].rel
    victim.write_bytes(b"changed while being added, longer than before " * 20)
    with pytest.raises(ChangedWhileReadingError, match=files[25].rel):
        ws.hash_files(files, store=odb)
    new_oid = hash_bytes(victim.read_bytes())
    assert not odb.exists(new_oid)  # the new content was never stored under any name


@pytest.fixture(params=["threads", "forked"])
def forked(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Runs a test with the batched loops in threads, then in forked workers (from 32 files);
    the sizes of the forked runs that happened."""
    runs: list[int] = []
    if request.param == "forked":
        if not sys.platform.startswith("linux"):
            pytest.skip("forked workers are Linux-only")
        monkeypatch.setattr(bulk, "FORK_MIN", 32)
        real = bulk.process_map

        def spy(fn: Any, items: Any, **kw: Any) -> Any:
            out = real(fn, items, **kw)
            if out is not None:
                runs.append(sum(len(b) for b in items))
            return out

        monkeypatch.setattr(bulk, "process_map", spy)
    return runs


def _mode(request: pytest.FixtureRequest) -> str:
    return str(request.node.callspec.params["forked"])


def test_hash_files_stores_what_it_hashed_in_threads_or_forked_workers(
    tmp_path: Path, forked: list[int], umask_077: None, request: pytest.FixtureRequest,
) -> None:
    rels = _files(tmp_path, 300)
    (tmp_path / "data/big.bin").write_bytes(b"b" * (bulk.SMALL + 5))  # over SMALL: stays in this process
    ws, odb, state = _workspace(tmp_path)
    files = ws.walk("data")
    seen: list[int] = []
    hashed = ws.hash_files(files, store=odb, on_hashed=seen.append, jobs=2)
    assert [h.rel for h in hashed] == [f.rel for f in files] and len(hashed) == len(rels) + 1
    for h in hashed:
        assert h.oid == hash_bytes((tmp_path / h.rel).read_bytes()) and h.fresh
        assert odb.path(h.oid).read_bytes() == (tmp_path / h.rel).read_bytes()
        assert stat.S_IMODE(os.stat(odb.path(h.oid)).st_mode) == 0o444
    assert sum(seen) == sum(f.st.st_size for f in files)  # progress: every byte, once
    assert not [n for _, _, names in os.walk(tmp_path / "cache") for n in names if is_tmp_name(n)]
    assert forked == ([300] if _mode(request) == "forked" else [])  # the small files, in workers
    assert [h.oid for h in ws.hash_files(files, store=odb)] == [h.oid for h in hashed]  # known now


def test_link_batch_copies_verified_objects_and_reports_corrupt_ones(
    tmp_path: Path, umask_077: None, forked: list[int], request: pytest.FixtureRequest,
) -> None:
    odb = ObjectDB(tmp_path / "cache")
    good, bad, exe = b"good bytes\n", b"will rot\n", b"#!/bin/sh\necho hi\n"
    oids = [hash_bytes(x) for x in (good, bad, exe)]
    for oid, data in zip(oids, (good, bad, exe)):
        odb.put_small(oid.hex, data, display="x")
    big = b"big object " * (bulk.SMALL // 10)  # over SMALL: left to this process
    odb.add_bytes(big)
    rotten = odb.path(oids[1])
    os.chmod(rotten, 0o644)
    rotten.write_bytes(b"bit rot!\n")
    ws = tmp_path / "ws"
    plan = CheckoutPlan(changes=[
        Change("d/good.txt", Action.CREATE, oids[0]),
        Change("d/bad.txt", Action.CREATE, oids[1]),
        Change("d/run.sh", Action.CREATE, oids[2], isexec=True),
    ] + [Change(f"many/{i}.txt", Action.CREATE, oids[0]) for i in range(200)]
      + [Change("many/big.bin", Action.CREATE, hash_bytes(big))])
    done: list[str] = []
    corrupt = apply(plan, Linker(ws, odb, StateDB(tmp_path / "s.db"), ["reflink", "copy"]), on_done=lambda ch: done.append(ch.rel), jobs=3)
    assert (ws / "many/big.bin").read_bytes() == big
    assert forked == ([203] if _mode(request) == "forked" else [])  # all but the first, in workers
    done.remove("many/big.bin")
    assert corrupt == ["d/bad.txt"]
    assert not (ws / "d/bad.txt").exists()
    assert (ws / "d/good.txt").read_bytes() == good
    assert stat.S_IMODE(os.stat(ws / "d/good.txt").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(ws / "d/run.sh").st_mode) == 0o755
    assert all((ws / f"many/{i}.txt").read_bytes() == good for i in range(200))
    assert len(done) == 202
    assert not [n for _, _, names in os.walk(ws) for n in names if is_tmp_name(n)]


def test_staging_builds_only_directories_that_do_not_exist_yet(tmp_path: Path) -> None:
    (tmp_path / "have/old").mkdir(parents=True)
    st = Staging(tmp_path, ["new", "new/a/b", "have/old", "have/fresh/x", ""])
    assert set(st.tops) == {"new", "have/fresh"}
    assert all(is_tmp_name(os.path.basename(p)) for p in st.tops.values())
    assert st.path("new/a/b/f.txt") == st.tops["new"] + "/a/b/f.txt"
    assert st.path("have/fresh/x/f") == st.tops["have/fresh"] + "/x/f"
    assert st.path("have/old/f") is None and st.path("top.txt") is None and st.path("newer/f") is None


def _plan(oid: Oid, rels: list[str]) -> CheckoutPlan:
    return CheckoutPlan(changes=[Change(r, Action.CREATE, oid) for r in rels])


def test_checkout_into_a_missing_directory_renames_it_into_place_whole(tmp_path: Path) -> None:
    odb = ObjectDB(tmp_path / "cache")
    oid = hash_bytes(b"x\n")
    odb.put_small(oid.hex, b"x\n", display="x")
    ws = tmp_path / "ws"
    (ws / "kept").mkdir(parents=True)
    (ws / "kept/mine.txt").write_text("mine")
    seen: list[bool] = []  # at each file: is the final directory there yet?
    rels = [f"data/d{i % 5}/f{i}.txt" for i in range(300)] + ["kept/new.txt"]
    apply(_plan(oid, rels), Linker(ws, odb, StateDB(tmp_path / "s.db"), ["copy"]),
          on_done=lambda ch: seen.append((ws / "data").exists()), jobs=3)
    assert not any(seen)  # built under a temp name, then renamed in one step
    assert all((ws / r).read_bytes() == b"x\n" for r in rels)
    assert sorted(os.listdir(ws)) == ["data", "kept"]  # no staging directory left


@pytest.mark.parametrize("kind", ["hardlink", "symlink"])
def test_staging_works_for_links(tmp_path: Path, kind: str) -> None:
    odb = ObjectDB(tmp_path / "cache")
    oid = hash_bytes(b"linked\n")
    odb.put_small(oid.hex, b"linked\n", display="x")
    ws = tmp_path / "ws"
    ws.mkdir()
    apply(_plan(oid, ["data/a", "data/sub/b"]), Linker(ws, odb, StateDB(tmp_path / "s.db"), [kind]))
    assert (ws / "data/sub/b").read_bytes() == b"linked\n"
    assert os.path.samefile(ws / "data/a", odb.path(oid))
    assert os.listdir(ws) == ["data"]


def test_a_failed_checkout_leaves_no_half_built_directory(tmp_path: Path) -> None:
    odb = ObjectDB(tmp_path / "cache")
    oid = hash_bytes(b"x\n")
    odb.put_small(oid.hex, b"x\n", display="x")
    ws = tmp_path / "ws"
    ws.mkdir()

    def stop(ch: Change) -> None:
        if ch.rel.endswith("f7.txt"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        apply(_plan(oid, [f"data/f{i}.txt" for i in range(20)]), Linker(ws, odb, StateDB(tmp_path / "s.db"), ["copy"]), on_done=stop, jobs=1)
    assert os.listdir(ws) == []


def test_recovery_removes_a_killed_checkouts_staging_directory(tmp_path: Path) -> None:
    st = Staging(tmp_path, ["data/sub"])
    st.make_dirs(["data/sub"])
    staged = st.path("data/sub/f.txt")
    assert staged is not None
    Path(staged).write_text("copy of a cache object")
    os.chmod(staged, 0o444)
    (tmp_path / "keep.txt").write_text("user data")
    assert remove_tmp_files(tmp_path) == 1
    assert os.listdir(tmp_path) == ["keep.txt"]


def test_canonical_manifest_bytes_are_json_dumps_bytes() -> None:
    names = ['a"quote', "back\\slash", "ü/é", "tab\there", "nl\nx", "\x01ctl", "emoji😀", "\u2028sep", "plain/f.bin"]
    oid = Oid("ab" * 32)
    m = mf.Manifest.build(mf.Entry(n, oid, i * 1000003, i % 2 == 0) for i, n in enumerate(names))
    items = [{"path": e.path, "oid": str(e.oid), "size": e.size, "isexec": e.isexec} for e in m.entries]
    assert mf.to_bytes(m) == json.dumps(items, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    plain = mf.Manifest(tuple(e for e in m.entries if "\\" not in e.path))  # parsing refuses backslashes
    assert mf.from_bytes(mf.to_bytes(plain)) == plain
    assert mf.to_bytes(mf.Manifest(())) == b"[]"


def test_filestat_walk_feeds_hash_files(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data/x").write_bytes(b"")
    ws, odb, _ = _workspace(tmp_path)
    [h] = ws.hash_files([FileStat("data/x", os.stat(tmp_path / "data/x"))], store=odb)
    assert str(h.oid) == "blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
    assert odb.path(h.oid).read_bytes() == b""


def test_put_small_into_a_shard_it_made_writes_each_object_once(tmp_path: Path) -> None:
    odb = ObjectDB(tmp_path / "cache")
    oid = hash_bytes(b"same\n")
    assert odb.put_small(oid.hex, b"same\n", display="a") is True  # makes the shard
    assert odb.put_small(oid.hex, b"same\n", display="b") is False  # known without a stat
    other = ObjectDB(tmp_path / "cache")  # another process: the shard exists, it looks
    assert other.put_small(oid.hex, b"same\n", display="c") is False
    assert odb.path(oid).read_bytes() == b"same\n"
    assert not [n for _, _, names in os.walk(tmp_path / "cache") for n in names if is_tmp_name(n)]


def test_fresh_shard_memory_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipever.objects import odb as odb_module

    monkeypatch.setattr(odb_module, "_REMEMBER_WRITTEN", 3)
    odb = ObjectDB(tmp_path / "cache")
    blobs = [b"%d\n" % i for i in range(10)]
    for b in blobs:
        odb.put_small(hash_bytes(b).hex, b, display="x")
    assert len(odb._written) <= 3
    assert all(odb.put_small(hash_bytes(b).hex, b, display="x") is False for b in blobs)  # none written twice
    assert all(odb.path(hash_bytes(b)).read_bytes() == b for b in blobs)


def test_exists_check_lists_shards_for_many_lookups_and_agrees_with_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    odb = ObjectDB(tmp_path / "cache")
    present = [hash_bytes(b"%d" % i) for i in range(300)]
    for oid in present:
        odb.put_small(oid.hex, b"%d" % present.index(oid), display="x")
    absent = [hash_bytes(b"absent %d" % i) for i in range(300)]
    listings: list[str] = []
    real_listdir = os.listdir
    monkeypatch.setattr(os, "listdir", lambda p: listings.append(str(p)) or real_listdir(p))
    few = odb.exists_check(10)
    assert all(few(o) for o in present) and not any(few(o) for o in absent) and listings == []
    many = odb.exists_check(5000)
    assert all(many(o) for o in present) and not any(many(o) for o in absent)
    assert 0 < len(listings) <= 256 and len(set(listings)) == len(listings)  # each shard once
    listings.clear()
    monkeypatch.setattr("pipever.objects.odb._DIRENT_BYTES", 1)  # every shard "huge": a stat each
    huge = odb.exists_check(5000)
    assert all(huge(o) for o in present) and not any(huge(o) for o in absent) and listings == []


def _cache_names(cache: Path) -> list[str]:
    return sorted(str(p.relative_to(cache)) for p in cache.rglob("*") if p.is_file())


def test_bulk_writes_build_missing_shards_aside_and_rename_them_into_place(tmp_path: Path) -> None:
    odb = ObjectDB(tmp_path / "cache")
    first = hash_bytes(b"before")
    odb.put_small(first.hex, b"before", display="x")  # its shard exists: the usual temp + rename
    datas = [b"object %d" % i for i in range(600)]
    with odb.bulk_writes():
        for data in datas:
            odb.put_small(hash_bytes(data).hex, data, display="x")
        odb.put_small(hash_bytes(datas[0]).hex, datas[0], display="x")  # twice: written once
        staging = [d for d in os.listdir(tmp_path / "cache/blake3") if is_tmp_name(d)]
        assert len(staging) == 255  # every shard but the one that existed
        others = [d for d in datas if hash_bytes(d).hex[:2] != first.hex[:2]]
        assert not any(odb.exists(hash_bytes(d)) for d in others)  # nothing visible yet
    assert all(odb.path(hash_bytes(d)).read_bytes() == d for d in datas)
    assert all(stat.S_IMODE(os.stat(odb.path(hash_bytes(d))).st_mode) == 0o444 for d in datas)
    assert sorted(os.listdir(tmp_path / "cache/blake3")) == [f"{i:02x}" for i in range(256)]
    assert not [n for _, dirs, names in os.walk(tmp_path / "cache") for n in dirs + names if is_tmp_name(n)]


def test_bulk_writes_that_fail_leave_nothing_half_done(tmp_path: Path) -> None:
    odb = ObjectDB(tmp_path / "cache")
    with pytest.raises(KeyboardInterrupt):
        with odb.bulk_writes():
            odb.put_small(hash_bytes(b"a").hex, b"a", display="x")
            raise KeyboardInterrupt
    assert _cache_names(tmp_path / "cache") == [] and not odb.exists(hash_bytes(b"a"))
    assert not [n for _, dirs, _ in os.walk(tmp_path / "cache") for n in dirs if is_tmp_name(n)]


def test_bulk_writes_redo_a_half_written_object_and_merge_into_a_shard_made_meanwhile(tmp_path: Path) -> None:
    odb, other = ObjectDB(tmp_path / "cache"), ObjectDB(tmp_path / "cache")
    data, theirs = b"mine", b"theirs, same shard?"
    oid = hash_bytes(data)
    while hash_bytes(theirs).hex[:2] != oid.hex[:2]:
        theirs += b"!"
    with odb.bulk_writes():
        staged = odb._staged[oid.hex[:2]]
        Path(staged, oid.hex[2:]).write_bytes(b"mi")  # what a worker killed mid-write left
        odb.put_small(oid.hex, data, display="x")
        other.put_small(hash_bytes(theirs).hex, theirs, display="y")  # another repo sharing the cache
    assert odb.path(oid).read_bytes() == data and odb.path(hash_bytes(theirs)).read_bytes() == theirs
    assert not [n for _, dirs, _ in os.walk(tmp_path / "cache") for n in dirs if is_tmp_name(n)]


def test_a_staging_shard_left_by_a_killed_pv_is_a_temp_dir_gc_finds_without_looking_in(tmp_path: Path) -> None:
    from pipever.fsutil import cleanup_tmp_files

    odb = ObjectDB(tmp_path / "cache")
    left = Path(bulk.tmp_sibling(str(tmp_path / "cache/blake3"), "ab"))
    left.mkdir(parents=True)
    (left / ("c" * 62)).write_bytes(b"half")
    (tmp_path / "cache/blake3/cd").mkdir()
    (tmp_path / "cache/blake3/cd/.x.0123456789ab.pvtmp").write_bytes(b"tmp")
    assert sorted(cleanup_tmp_files(tmp_path / "cache")) == sorted(
        [left, tmp_path / "cache/blake3/cd/.x.0123456789ab.pvtmp"])
    assert list(odb.iter_objects()) == []  # never taken for an object
