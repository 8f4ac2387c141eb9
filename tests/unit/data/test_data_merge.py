from __future__ import annotations

from typing import Any

import yaml

from pipever.data import merge as dm
from pipever.objects.merge import MISSING, Conflict


def _out(path: str, oid: str, size: int = 1, nfiles: int | None = None, **extra: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"path": path, "oid": oid, "size": size}
    if nfiles is not None:
        d["nfiles"] = nfiles
    return {**d, **extra}


def _pointer(*outs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    keyed = dm.outs_by_path({"outs": list(outs), **extra})
    assert keyed is not None
    return keyed


def _no_dirs(b: Any, o: Any, t: Any) -> None:
    raise AssertionError("no directory merge expected")


def test_lock_stages_changed_on_different_sides_merge() -> None:
    base = {"schema": "1", "stages": {"a": {"cmd": "x"}, "b": {"cmd": "y"}}}
    ours = {"schema": "1", "stages": {"a": {"cmd": "x2"}, "b": {"cmd": "y"}}}
    theirs = {"schema": "1", "stages": {"a": {"cmd": "x"}, "b": {"cmd": "y3"}, "c": {"cmd": "z"}}}
    merged = dm.merge_lock(base, ours, theirs)
    assert merged == {"schema": "1", "stages": {"a": {"cmd": "x2"}, "b": {"cmd": "y3"}, "c": {"cmd": "z"}}}
    assert dm.conflicted(merged) == []


def test_lock_stage_deleted_on_one_side_and_changed_on_the_other_conflicts() -> None:
    base = {"schema": "1", "stages": {"a": {"cmd": "x"}}}
    merged = dm.merge_lock(base, {"schema": "1", "stages": {}}, {"schema": "1", "stages": {"a": {"cmd": "x2"}}})
    assert merged["stages"] == {"a": Conflict(MISSING, {"cmd": "x2"})}
    text = dm.render(merged, section="stages")
    assert text == "schema: '1'\nstages:\n<<<<<<< ours\n=======\n  a:\n    cmd: x2\n>>>>>>> theirs\n"


def test_render_without_conflicts_is_plain_yaml() -> None:
    merged = dm.merge_lock({}, {"schema": "1", "stages": {"a": {"cmd": "x", "outs": [{"path": "o"}]}}}, {})
    text = dm.render(merged, section="stages")
    assert text == yaml.safe_dump(merged, sort_keys=False)


def test_pointer_directory_changed_on_both_sides_asks_for_a_manifest_merge() -> None:
    calls = []

    def merge_dir(b: Any, o: Any, t: Any) -> dict[str, Any]:
        calls.append((b["oid"], o["oid"], t["oid"]))
        return {"oid": "M", "size": 9, "nfiles": 3}

    base = _pointer(_out("d", "B", nfiles=2))
    ours = _pointer(_out("d", "O", nfiles=2, desc="mine"))
    theirs = _pointer(_out("d", "T", nfiles=3))
    merged = dm.merge_pointer(base, ours, theirs, merge_dir=merge_dir)
    assert calls == [("B", "O", "T")]
    assert dm.plain(merged, outs_as_list=True) == {"outs": [_out("d", "M", 9, nfiles=3, desc="mine")]}


def test_pointer_file_changed_on_both_sides_conflicts_without_asking() -> None:
    merged = dm.merge_pointer(_pointer(_out("f", "B")), _pointer(_out("f", "O")), _pointer(_out("f", "T")),
                              merge_dir=_no_dirs)
    assert dm.conflicted(merged) == ["f"]
    text = dm.render(merged, section="outs", header="# h\n")
    assert text == ("# h\nouts:\n<<<<<<< ours\n- path: f\n  oid: O\n  size: 1\n=======\n"
                    "- path: f\n  oid: T\n  size: 1\n>>>>>>> theirs\n")


def test_pointer_same_key_changed_differently_conflicts() -> None:
    merged = dm.merge_pointer(_pointer(_out("f", "B")), _pointer(_out("f", "B", desc="x")),
                              _pointer(_out("f", "B", desc="y")), merge_dir=_no_dirs)
    assert dm.conflicted(merged) == ["f"]


def test_repeated_out_paths_are_not_keyed() -> None:
    assert dm.outs_by_path({"outs": [_out("f", "A"), _out("f", "B")]}) is None


def test_whole_file_conflict_adds_missing_newlines() -> None:
    assert dm.whole_file_conflict("a", "b\n", marker_size=3) == "<<< ours\na\n===\nb\n>>> theirs\n"
