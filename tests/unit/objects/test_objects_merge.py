from __future__ import annotations

from pipever.objects.hashing import hash_bytes
from pipever.objects.manifest import Entry, Manifest
from pipever.objects.merge import MISSING, Conflict, merge_manifests, merge_mapping, merge_value


def _m(**files: str) -> Manifest:
    return Manifest.build(Entry(p.replace("__", "/"), hash_bytes(t.encode()), len(t)) for p, t in files.items())


def test_merge_value_takes_the_side_that_changed() -> None:
    assert merge_value(1, 1, 2) == 2
    assert merge_value(1, 2, 1) == 2
    assert merge_value(1, 3, 3) == 3
    assert merge_value(1, 2, 3) == Conflict(2, 3)
    assert merge_value(MISSING, MISSING, 5) == 5  # added on one side
    assert merge_value(1, MISSING, 1) is MISSING  # deleted on one side
    assert merge_value(1, MISSING, 2) == Conflict(MISSING, 2)  # deleted here, changed there


def test_merge_mapping_keeps_order_and_asks_the_resolver() -> None:
    merged = merge_mapping({"a": 1, "b": 1, "c": 1}, {"b": 2, "a": 1, "c": 5}, {"a": 1, "b": 1, "d": 4, "c": 6},
                           resolve=lambda k, b, o, t: o + t if k == "c" else Conflict(o, t))
    assert merged == {"b": 2, "a": 1, "c": 11, "d": 4}
    assert list(merged) == ["b", "a", "c", "d"]


def test_manifests_merge_file_by_file() -> None:
    res = merge_manifests(_m(a="1", b="1", c="1"), _m(a="2", b="1", c="1", d="new"), _m(a="1", b="3"))
    assert res.conflicts == ()
    assert res.manifest == _m(a="2", b="3", d="new")


def test_manifests_conflict_on_a_file_changed_on_both_sides() -> None:
    res = merge_manifests(_m(a="1", b="1"), _m(a="2", b="1"), _m(a="3", b="1"))
    assert res.manifest is None and res.conflicts == ("a",)


def test_manifests_conflict_when_a_file_and_a_directory_meet() -> None:
    res = merge_manifests(_m(), _m(x="file"), _m(x__y="inside"))
    assert res.manifest is None and res.conflicts == ("x",)


def test_executable_bit_is_part_of_a_file() -> None:
    plain = _m(run="sh")
    exe = Manifest.build([Entry("run", hash_bytes(b"sh"), 2, isexec=True)])
    assert merge_manifests(plain, exe, plain).manifest == exe
