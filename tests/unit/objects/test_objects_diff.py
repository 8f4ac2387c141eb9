from __future__ import annotations

from pipever.objects.diff import Change, Item, TreeDiff, diff_trees, manifest_items
from pipever.objects.hashing import hash_bytes
from pipever.objects.manifest import Entry, Manifest
from pipever.objects.oid import Oid


def oid(text: str) -> Oid:
    return hash_bytes(text.encode())


A, B, C = Item(oid("a"), 1), Item(oid("b"), 2), Item(oid("c"), 3)


def test_identical_trees_have_no_changes() -> None:
    d = diff_trees({"x": A, "d/": B}, {"x": A, "d/": B})
    assert d.empty
    assert d.as_dict() == {"added": [], "deleted": [], "modified": [], "renamed": []}


def test_added_deleted_modified() -> None:
    d = diff_trees({"keep": A, "gone": B, "mod": A}, {"keep": A, "new": C, "mod": B})
    assert [c.path for c in d.added] == ["new"]
    assert [c.path for c in d.deleted] == ["gone"]
    assert d.modified == (Change("modified", "mod", A, B),)
    assert d.renamed == ()


def test_same_oid_at_a_new_path_is_a_rename() -> None:
    d = diff_trees({"old.csv": A}, {"new.csv": A})
    assert d.added == () and d.deleted == ()
    assert d.renamed == (Change("renamed", "new.csv", A, A, old_path="old.csv"),)


def test_rename_prefers_the_same_base_name() -> None:
    d = diff_trees({"x/a.csv": A}, {"y/b.csv": A, "y/a.csv": A})
    assert [(c.old_path, c.path) for c in d.renamed] == [("x/a.csv", "y/a.csv")]
    assert [c.path for c in d.added] == ["y/b.csv"]


def test_each_added_path_pairs_with_one_deleted_path() -> None:
    d = diff_trees({"a1": A, "a2": A}, {"b1": A})
    assert len(d.renamed) == 1
    assert len(d.deleted) == 1


def test_directories_only_rename_to_directories() -> None:
    d = diff_trees({"d/": A}, {"f": A})
    assert d.renamed == ()
    assert [c.path for c in d.added] == ["f"] and [c.path for c in d.deleted] == ["d/"]


def test_json_layout_of_each_kind() -> None:
    d = diff_trees({"m": A, "r": B, "gone": C}, {"m": C, "r2": B, "new": A})
    assert d.as_dict() == {
        "added": [{"path": "new", "oid": str(A.oid), "size": 1}],
        "deleted": [{"path": "gone", "oid": str(C.oid), "size": 3}],
        "modified": [{"path": "m", "oid": {"old": str(A.oid), "new": str(C.oid)}, "size": {"old": 1, "new": 3}}],
        "renamed": [{"path": {"old": "r", "new": "r2"}, "oid": str(B.oid), "size": 2}],
    }


def test_unknown_size_is_null_in_json() -> None:
    d = diff_trees({}, {"x": Item(oid("x"), None)})
    assert d.as_dict()["added"] == [{"path": "x", "oid": str(oid("x")), "size": None}]


def test_results_are_sorted_by_path() -> None:
    d = diff_trees({}, {"b": A, "a": B, "c/d": C})
    assert [c.path for c in d.added] == ["a", "b", "c/d"]


def test_manifest_items_are_repo_relative() -> None:
    m = Manifest.build([Entry("sub/f.txt", oid("f"), 5), Entry("a", oid("a"), 1, True)])
    assert manifest_items("data/raw", m) == {
        "data/raw/a": Item(oid("a"), 1),
        "data/raw/sub/f.txt": Item(oid("f"), 5),
    }


def test_of_returns_each_kind() -> None:
    d = TreeDiff(added=(Change("added", "x", None, A),))
    assert d.of("added") == d.added and d.of("renamed") == ()
