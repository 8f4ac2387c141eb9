"""State db and checkout planning."""

from __future__ import annotations

import os
import time
from pathlib import Path

from pipever.objects import checkout as co
from pipever.objects.hashing import hash_bytes
from pipever.objects.state import StateDB

A, B, C = hash_bytes(b"a"), hash_bytes(b"b"), hash_bytes(b"c")


def _old_file(path: Path, data: bytes) -> os.stat_result:
    path.write_bytes(data)
    old = time.time() - 10
    os.utime(path, (old, old))
    return os.stat(path)


def test_state_remembers_by_inode_size_mtime(tmp_path: Path) -> None:
    f = tmp_path / "f"
    st = _old_file(f, b"a")
    db = StateDB(tmp_path / "state.db")
    db.set("f", st, A)
    db.flush()
    db.close()
    db = StateDB(tmp_path / "state.db")
    assert db.get("f", os.stat(f)) == A
    st2 = _old_file(f, b"b")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    assert db.get("f", os.stat(f)) is None
    assert st2.st_size == st.st_size


def test_state_does_not_vouch_for_racy_files(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"a")  # mtime is now: a same-tick rewrite would go unseen
    db = StateDB(tmp_path / "state.db")
    db.set("f", os.stat(f), A)
    db.flush()
    assert db.get("f", os.stat(f)) is None


def test_plan_file_never_overwrites_content_missing_from_cache() -> None:
    in_cache = {A, B}.__contains__
    plan = co.CheckoutPlan()
    co.plan_file(plan, "x", A, C, in_cache=in_cache, force=False, relink=False)
    assert plan.conflicts == ["x"] and not plan.changes
    plan = co.CheckoutPlan()
    co.plan_file(plan, "x", A, C, in_cache=in_cache, force=True, relink=False)
    assert plan.changes == [co.Change("x", co.Action.REPLACE, A)]
    plan = co.CheckoutPlan()
    co.plan_file(plan, "x", A, B, in_cache=in_cache, force=False, relink=False)
    assert plan.changes == [co.Change("x", co.Action.REPLACE, A)]
    plan = co.CheckoutPlan()
    co.plan_file(plan, "x", C, None, in_cache=in_cache, force=False, relink=False)
    assert plan.missing == ["x"]
    plan = co.CheckoutPlan()
    co.plan_file(plan, "x", A, A, in_cache=in_cache, force=False, relink=False)
    assert plan.changes == [] and plan.conflicts == []


def test_plan_dir_creates_replaces_and_deletes_only_safe_files() -> None:
    in_cache = {A, B}.__contains__
    plan = co.CheckoutPlan()
    current = {"d/keep": A, "d/old": B, "d/unsaved": C, "d/change": B}
    co.plan_dir(plan, "d", [("keep", A, False), ("new", B, False), ("change", A, False)], current,
                in_cache=in_cache, force=False, relink=False)
    got = {(c.rel, c.action) for c in plan.changes}
    assert got == {("d/new", co.Action.CREATE), ("d/change", co.Action.REPLACE), ("d/old", co.Action.DELETE)}
    assert plan.conflicts == ["d/unsaved"]


def test_parse_link_types_accepts_list_and_comma_string() -> None:
    assert co.parse_link_types("hardlink, copy") == ["hardlink", "copy"]
    assert co.parse_link_types(["reflink", "copy"]) == ["reflink", "copy"]


def test_lookup_reads_only_the_rows_asked_for(tmp_path: Path) -> None:
    files = []
    for i in range(1200):  # more than one batch of the IN query
        p = tmp_path / f"f{i}"
        p.write_bytes(b"%d" % i)
        os.utime(p, ns=(1_000_000_000, 1_000_000_000 + i))
        files.append(p)
    db = StateDB(tmp_path / "state.db")
    for i, p in enumerate(files):
        db.set_trusted(f"f{i}", os.stat(p), hash_bytes(b"%d" % i))
    db.flush()
    db = StateDB(tmp_path / "state.db")
    (tmp_path / "f3").write_bytes(b"changed")  # its stat no longer matches
    asked = [(f"f{i}", os.stat(files[i])) for i in range(0, 1200, 2)] + [("nope", os.stat(files[1]))]
    found = db.lookup(asked)
    assert db._loaded is None  # the table was not loaded whole
    assert set(found) == {f"f{i}" for i in range(0, 1200, 2)}  # f3 is odd; 'nope' has no row
    assert found["f10"] == hash_bytes(b"10")


def test_check_many_finds_corrupt_and_vanished_objects_and_trusts_good_ones(tmp_path: Path) -> None:
    from pipever.objects.odb import ObjectDB, ObjectRef

    odb = ObjectDB(tmp_path / "cache")
    refs = []
    for data in (b"good\n", b"rots\n", b"goes\n"):
        oid = hash_bytes(data)
        odb.put_small(oid.hex, data, display="x")
        refs.append(ObjectRef(oid, False))
    rotten = odb.path(refs[1].oid)
    os.chmod(rotten, 0o644)
    rotten.write_bytes(b"ROTS\n")
    os.unlink(odb.path(refs[2].oid))
    db = StateDB(tmp_path / "state.db")
    bad = odb.check_many(refs, db)
    assert len(bad) == 2 and set(bad) == {refs[1], refs[2]}
    key = "\x00cache/" + refs[0].oid.hex
    assert db.lookup([(key, os.stat(odb.path(refs[0].oid)))]) == {key: refs[0].oid}
