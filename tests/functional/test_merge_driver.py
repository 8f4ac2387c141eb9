"""The merge driver, exercised by real `git merge` of two branches (installed by `pv install`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from pipever.data import pointer as ptr
from pipever.objects.hashing import hash_bytes
from pipever.objects.manifest import Entry, Manifest, manifest_oid, to_bytes
from pipever.commands.githooks.merge_driver import merge_driver
from pipever.pipeline import lockfile
from tests.helpers import PvRunner, gen, git, git_run


@pytest.fixture
def merging(pv_repo: Path, pv: PvRunner) -> Path:
    pv.ok("install")
    git("add", ".gitattributes")
    git("commit", "-qm", "merge driver")
    return pv_repo


def _branches(left: Callable[[], None], right: Callable[[], None]) -> CompletedProcess[str]:
    """Commit ``left`` on branch left and ``right`` on branch right (both from main), then merge
    left into right."""
    git("checkout", "-q", "-b", "left")
    left()
    git("commit", "-qam", "left")
    git("checkout", "-q", "main")
    git("checkout", "-q", "-b", "right")
    right()
    git("commit", "-qam", "right")
    return git_run("merge", "left", "-m", "merge left")


def _readd(pv: PvRunner, name: str, text: str) -> Callable[[], None]:
    """A branch step: write ``text`` to ``name`` and ``pv add`` it."""
    def change() -> None:
        gen({name: text})
        pv.ok("add", name)
    return change


def _pointer(root: Path, name: str) -> ptr.Pointer:
    return ptr.parse((root / name).read_text(), name)


# -- directories in pointer files ----------------------------------------------------------------
def test_different_files_of_a_directory_changed_on_each_side_merge(merging: Path, pv: PvRunner) -> None:
    gen({"images": {"a.png": "A", "b.png": "B"}})
    pv.ok("add", "images")
    git("commit", "-qm", "images")

    def left() -> None:
        gen({"images": {"a.png": "A-left"}})
        pv.ok("add", "images")

    def right() -> None:
        gen({"images": {"b.png": "B-right", "c.png": "C"}})
        pv.ok("add", "images")

    res = _branches(left, right)
    assert res.returncode == 0, res.stderr
    assert "pv: merged the directory 'images' file by file — run 'pv checkout' after the merge" in res.stderr
    expected = Manifest.build(
        Entry(p, hash_bytes(t.encode()), len(t)) for p, t in (("a.png", "A-left"), ("b.png", "B-right"), ("c.png", "C"))
    )
    out = _pointer(merging, "images.pv").outs[0]
    assert (out.oid, out.size, out.nfiles) == (manifest_oid(expected), 14, 3)
    assert (merging / ".pv/cache" / out.oid.relpath(is_dir=True)).read_bytes() == to_bytes(expected)
    assert git("status", "--porcelain") == ""
    pv.ok("checkout")
    assert [(merging / "images" / n).read_text() for n in ("a.png", "b.png", "c.png")] == ["A-left", "B-right", "C"]


def test_same_file_of_a_directory_changed_on_both_sides_conflicts(merging: Path, pv: PvRunner) -> None:
    gen({"images": {"a.png": "A", "b.png": "B"}})
    pv.ok("add", "images")
    git("commit", "-qm", "images")

    def edit(text: str) -> Callable[[], None]:
        def change() -> None:
            gen({"images": {"a.png": text}})
            pv.ok("add", "images")
        return change

    res = _branches(edit("A-left"), edit("A-right"))
    assert res.returncode == 1
    assert "CONFLICT (pv): images.pv: changed on both sides: 'images'" in res.stderr
    assert "files changed on both sides: 'images/a.png'" in res.stderr
    assert git("status", "--porcelain").splitlines() == ["UU images.pv"]
    text = (merging / "images.pv").read_text()
    assert text.startswith(ptr.HEADER + "outs:\n<<<<<<< ours\n- path: images\n")
    assert "\n=======\n- path: images\n" in text and text.endswith(">>>>>>> theirs\n")


def test_directory_manifest_missing_from_the_cache_conflicts_and_says_fetch(merging: Path, pv: PvRunner) -> None:
    gen({"images": {"a.png": "A", "b.png": "B"}})
    pv.ok("add", "images")
    git("commit", "-qm", "images")
    git("checkout", "-q", "-b", "left")
    gen({"images": {"a.png": "A-left"}})
    pv.ok("add", "images")
    git("commit", "-qam", "left")
    theirs = _pointer(merging, "images.pv").outs[0].oid
    (merging / ".pv/cache" / theirs.relpath(is_dir=True)).unlink()  # as if 'left' came from a colleague
    git("checkout", "-q", "main")
    git("checkout", "-q", "-b", "right")
    gen({"images": {"b.png": "B-right"}})
    pv.ok("add", "images")
    git("commit", "-qam", "right")
    res = git_run("merge", "left", "-m", "merge")
    assert res.returncode == 1
    assert f"the theirs directory manifest ({theirs}) is not in the cache — run 'pv fetch'" in res.stderr


def test_pointer_keys_and_content_changed_on_different_sides_merge(merging: Path, pv: PvRunner) -> None:
    gen({"data.csv": "v1\n"})
    pv.ok("add", "data.csv")
    git("commit", "-qm", "data")

    def left() -> None:
        text = (merging / "data.csv.pv").read_text().replace("  size: 3\n", "  size: 3\n  desc: the data\n")
        (merging / "data.csv.pv").write_text(text + "meta:\n  owner: ana\n")

    def right() -> None:
        gen({"data.csv": "v2!\n"})
        pv.ok("add", "data.csv")

    res = _branches(left, right)
    assert res.returncode == 0, res.stderr
    p = _pointer(merging, "data.csv.pv")
    assert (p.outs[0].oid, p.outs[0].size) == (hash_bytes(b"v2!\n"), 4)
    assert p.outs[0].extra == {"desc": "the data"} and p.extra == {"meta": {"owner": "ana"}}


def test_a_file_changed_on_both_sides_conflicts(merging: Path, pv: PvRunner) -> None:
    gen({"data.csv": "v1\n"})
    pv.ok("add", "data.csv")
    git("commit", "-qm", "data")

    res = _branches(_readd(pv, "data.csv", "left\n"), _readd(pv, "data.csv", "right\n"))
    assert res.returncode == 1
    text = (merging / "data.csv.pv").read_text()
    assert f"  oid: {hash_bytes(b'right')}" not in text
    assert text.count("- path: data.csv\n") == 2 and "<<<<<<< ours\n" in text


# -- pv.lock -------------------------------------------------------------------------------------
def _path(path: str, text: str) -> lockfile.LockedPath:
    return lockfile.LockedPath(path, hash_bytes(text.encode()), len(text))


def _lock(prepared: str, model: str) -> lockfile.Lockfile:
    return lockfile.Lockfile({
        "prepare": lockfile.LockEntry("python prepare.py", deps=(_path("raw.csv", "raw"),),
                                      outs=(_path("prepared.csv", prepared),)),
        "train": lockfile.LockEntry("python train.py", deps=(_path("prepared.csv", "p1"),),
                                    params={"params.yaml": {"lr": 0.1}}, outs=(_path("model.pkl", model),)),
    })


def _write_lock(root: Path, lock: lockfile.Lockfile) -> Callable[[], None]:
    return lambda: lockfile.write_lockfile(root / "pv.lock", lock)


def test_different_stages_changed_on_each_side_merge(merging: Path) -> None:
    _write_lock(merging, _lock("p1", "m1"))()
    git("add", "pv.lock")
    git("commit", "-qm", "lock")
    res = _branches(_write_lock(merging, _lock("p2", "m1")), _write_lock(merging, _lock("p1", "m2")))
    assert res.returncode == 0, res.stderr
    assert (merging / "pv.lock").read_text() == lockfile.dump_lockfile(_lock("p2", "m2"))


def test_a_stage_added_on_one_side_merges_with_a_change_on_the_other(merging: Path) -> None:
    _write_lock(merging, _lock("p1", "m1"))()
    git("add", "pv.lock")
    git("commit", "-qm", "lock")
    evaluate = lockfile.LockEntry("python eval.py", outs=(_path("metrics.json", "{}"),))
    res = _branches(_write_lock(merging, _lock("p1", "m1").with_entry("evaluate", evaluate)),
                    _write_lock(merging, _lock("p1", "m2")))
    assert res.returncode == 0, res.stderr
    merged = lockfile.parse_lockfile((merging / "pv.lock").read_text())
    assert list(merged.stages) == ["prepare", "train", "evaluate"]
    assert merged.stages["train"] == _lock("p1", "m2").stages["train"]


def test_the_same_stage_changed_on_both_sides_conflicts_only_there(merging: Path) -> None:
    _write_lock(merging, _lock("p1", "m1"))()
    git("add", "pv.lock")
    git("commit", "-qm", "lock")
    res = _branches(_write_lock(merging, _lock("p2", "m-left")), _write_lock(merging, _lock("p1", "m-right")))
    assert res.returncode == 1
    assert "CONFLICT (pv): pv.lock: changed on both sides: 'train'" in res.stderr
    text = (merging / "pv.lock").read_text()
    prepare = lockfile.dump_lockfile(lockfile.Lockfile({"prepare": _lock("p2", "x").stages["prepare"]}))
    assert text.startswith(prepare)  # the stage changed on one side only is merged
    right, left = (lockfile.dump_lockfile(lockfile.Lockfile({"train": _lock("p", m).stages["train"]})) for m in ("m-right", "m-left"))
    assert text[len(prepare):] == f"<<<<<<< ours\n{_body(right)}=======\n{_body(left)}>>>>>>> theirs\n"


def _body(lock_text: str) -> str:
    return lock_text.split("stages:\n", 1)[1]


# -- the driver on files git would hand it -------------------------------------------------------
def test_unparseable_side_gives_whole_file_markers(tmp_path: Path) -> None:
    base, ours, theirs = (tmp_path / n for n in ("O", "A", "B"))
    base.write_text("")
    ours.write_text("schema: '1'\nstages: {}\n")
    theirs.write_text("stages: [not, a, lock\n")
    res = merge_driver(base, ours, theirs, path="pv.lock", odb=None, marker_size=9)
    assert res.conflicts == ["(whole file)"]
    assert ours.read_text() == "<<<<<<<<< ours\nschema: '1'\nstages: {}\n=========\nstages: [not, a, lock\n>>>>>>>>> theirs\n"


def test_without_the_driver_a_conflicted_pointer_gets_a_hint_git_accepts(pv_repo: Path, pv: PvRunner) -> None:
    """'git checkout -- a.pv' (the usual hint for a broken pointer) is refused for an unmerged path."""
    gen({"a": "base\n"})
    pv.ok("add", "a")
    git("commit", "-qm", "a")

    assert _branches(_readd(pv, "a", "left\n"), _readd(pv, "a", "right\n")).returncode != 0  # a real conflict
    res = pv("status")
    assert res.exit_code == 1
    assert res.stderr == (
        "ERROR: invalid pointer file 'a.pv': it has merge conflict markers — resolve the merge conflict: keep "
        "one side ('git checkout --ours a.pv' or '--theirs'), then 'pv checkout'; 'pv install' sets up a merge "
        "driver for pointers\n")
    git("checkout", "--theirs", "a.pv")  # the hint works
    pv.ok("checkout", "-f")
    assert (pv_repo / "a").read_text() == "left\n"


def test_a_subfolders_lock_merges_with_paths_relative_to_its_folder(tmp_path: Path) -> None:
    """pv.lock beside sub/pv.yaml records '../data.csv': the driver reads it relative to 'sub'."""
    oid = "blake3:" + "1" * 64
    head = "schema: '1'\nstages:\n"

    def stage(name: str, size: int) -> str:
        return (f"  {name}:\n    cmd: run {name}\n    deps:\n    - path: ../data.csv\n      oid: {oid}\n"
                f"      size: {size}\n")

    base, ours, theirs = (tmp_path / n for n in ("O", "A", "B"))
    base.write_text(head + stage("a", 1) + stage("b", 1))
    ours.write_text(head + stage("a", 2) + stage("b", 1))
    theirs.write_text(head + stage("a", 1) + stage("b", 3))
    res = merge_driver(base, ours, theirs, path="sub/pv.lock", odb=None)
    assert res.conflicts == []
    assert ours.read_text() == head + stage("a", 2) + stage("b", 3)
