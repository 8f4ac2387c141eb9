"""A damaged repository or an unusual machine (issue 16): a broken state database, file names
that are not UTF-8 or as long as the filesystem allows, a cache setting that cannot work. Each is
a clear message or is handled; none is a traceback or an 'unexpected' error."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tests.helpers import PvRunner, gen

STATE = Path(".pv/tmp/state.db")


def _garbage(db: Path) -> None:
    db.write_bytes(b"this is not an SQLite database, just bytes\n" * 100)


def _truncated(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[:100] + b"\xff" * (len(data) - 100))


def _other_schema(db: Path) -> None:
    db.unlink()
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE state (path TEXT PRIMARY KEY, something_else BLOB)")
    conn.execute("CREATE TABLE complete (x INTEGER)")
    conn.commit()
    conn.close()


# -- case 10: a damaged state database is moved aside and rebuilt ------------------------------
@pytest.mark.parametrize("damage", [_garbage, _truncated, _other_schema])
def test_a_damaged_state_database_is_moved_aside_and_rebuilt(pv_repo: Path, pv: PvRunner, damage) -> None:
    gen({"data": {"a.csv": "a\n", "b.csv": "b\n"}, "f.txt": "f\n"})
    pv.ok("add", "data", "f.txt")
    for leftover in (".pv/tmp/state.db-wal", ".pv/tmp/state.db-shm"):
        if os.path.exists(leftover):
            os.unlink(leftover)
    damage(STATE)
    res = pv("status")
    assert res.exit_code == 0, res
    assert res.stdout == "Data and pipelines are up to date.\n", res
    warnings = [line for line in res.stderr.splitlines() if line.startswith("WARNING: ")]
    assert len(warnings) == 1, res
    assert warnings[0].startswith("WARNING: the state database '.pv/tmp/state.db' is damaged ("), res
    assert warnings[0].endswith("): moved aside to '.pv/tmp/state.db.damaged' and rebuilt — files are hashed again once"), res
    assert Path(".pv/tmp/state.db.damaged").exists()
    # rebuilt: the next commands work and say nothing more
    gen({"f.txt": "f2\n"})
    res = pv.ok("add", "f.txt")
    assert "WARNING" not in res.stderr
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"
    assert "WARNING" not in pv.ok("checkout").stderr


# -- case 12: file names that are not UTF-8 ----------------------------------------------------
def test_a_file_name_that_is_not_utf8_is_refused_naming_its_bytes(pv_repo: Path, pv: PvRunner) -> None:
    gen({"d": {"ok.txt": "ok\n"}, "t": {"ok.txt": "ok\n"}})
    os.makedirs(b"d/sub", exist_ok=True)
    Path(os.fsdecode(b"d/sub/caf\xe9.txt")).write_text("latin-1 name\n")
    res = pv("add", "d")
    assert res.exit_code == 1, res
    assert res.stderr == ("ERROR: file name 'd/sub/caf\\xe9.txt' is not valid UTF-8 — rename it "
                          "(pv records names as UTF-8)\n"), res
    assert not Path("d.pv").exists()
    # a tracked directory that gains one
    pv.ok("add", "t")
    Path(os.fsdecode(b"t/\xff\xfe.bin")).write_bytes(b"x")
    for args in (("status",), ("commit",), ("diff",), ("add", "t")):
        res = pv(*args)
        assert res.exit_code == 1, (args, res)
        assert "file name 't/\\xff\\xfe.bin' is not valid UTF-8" in res.stderr, (args, res)
    # a single file
    Path(os.fsdecode(b"na\xefve.csv")).write_text("x\n")
    res = pv("add", os.fsdecode(b"na\xefve.csv"))
    assert res.exit_code == 1 and "file name 'na\\xefve.csv' is not valid UTF-8" in res.stderr, res


# -- case 13: names as long as the filesystem allows -------------------------------------------
@pytest.mark.parametrize("link", ["copy", "hardlink", "symlink"])
def test_names_of_254_bytes_are_added_and_checked_out(pv_repo: Path, pv: PvRunner, link: str) -> None:
    long = "n" * 250 + ".csv"  # 254 bytes, one below NAME_MAX
    wide = "é" * 125 + ".txt"  # 254 bytes in UTF-8
    pv.ok("config", "cache.type", link)
    gen({"d": {long: "long\n", wide: "wide\n", "sub": {long: "deep\n"}}})
    pv.ok("add", "d")
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"
    for name in (long, wide):
        os.unlink(Path("d") / name)
    res = pv.ok("checkout", "d")
    assert (Path("d") / long).read_text() == "long\n" and (Path("d") / wide).read_text() == "wide\n"
    (Path("d") / "sub" / long).unlink()
    pv.ok("checkout", "--relink", "d")
    assert (Path("d") / "sub" / long).read_text() == "deep\n"
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n", res
    if link != "copy":
        pv.ok("unprotect", "d")
        (Path("d") / long).write_text("changed\n")
        pv.ok("add", "d")
    assert not [p for p in Path(".").rglob("*.pvtmp")]


def test_a_file_whose_pointer_name_would_be_too_long_is_refused(pv_repo: Path, pv: PvRunner) -> None:
    fits = "f" * 251  # its pointer has 254 bytes
    gen({fits: "fits\n"})
    pv.ok("add", fits)
    assert Path(fits + ".pv").exists()
    too_long = "t" * 254
    gen({too_long: "x\n"})
    res = pv("add", too_long)
    assert res.exit_code == 1, res
    assert res.stderr == (f"ERROR: cannot track '{too_long}': its pointer file '{too_long}.pv' would have a name "
                          "of 257 bytes, more than the file system allows (255) — rename it, or track the "
                          "directory that holds it\n"), res


def test_relinking_a_file_already_hardlinked_leaves_no_temp_file(pv_repo: Path, pv: PvRunner) -> None:
    """rename(2) of a hard link onto the same inode does nothing: the temp name stayed behind."""
    pv.ok("config", "cache.type", "hardlink")
    gen({"d": {"a.csv": "a\n"}, "f.txt": "f\n"})
    pv.ok("add", "d", "f.txt")
    pv.ok("checkout", "--relink")
    assert not [p for p in Path(".").rglob("*.pvtmp")]
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"


# -- case 16: a cache directory that cannot be one ---------------------------------------------
@pytest.mark.parametrize("where", ["local", "env", "default"])
def test_a_cache_dir_under_a_regular_file_names_the_setting(
    pv_repo: Path, pv: PvRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str,
) -> None:
    gen({"a.csv": "a\n"})
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    if where == "local":
        pv.ok("config", "--local", "cache.dir", str(blocker / "cache"))
        setting, fix = "'cache.dir' (local config)", "pv config --local cache.dir PATH"
        shown = blocker / "cache"
    elif where == "env":
        monkeypatch.setenv("PV_CACHE_DIR", str(blocker / "sub" / "cache"))
        setting, fix = "PV_CACHE_DIR", "set PV_CACHE_DIR to a directory"
        shown = blocker / "sub" / "cache"
    else:
        os.rmdir(".pv/cache") if Path(".pv/cache").is_dir() else None
        Path(".pv/cache").write_text("a damaged repository\n")
        setting, fix = "the default cache", "remove the file '.pv/cache'"
        shown = pv_repo / ".pv" / "cache"
    for args in (("add", "a.csv"), ("gc", "-w", "-f")):
        res = pv(*args)
        assert res.exit_code == 1, res
        assert res.stderr.startswith(f"ERROR: the cache directory '{shown}' from {setting} cannot be a directory: "), res
        assert fix in res.stderr and "changed while pv was working" not in res.stderr, res
    assert not Path("a.csv.pv").exists()


# -- case 9: a directory whose file objects left the cache ---------------------------------------
def _drop_object(root: Path, content: bytes) -> None:
    from pipever.objects.hashing import hash_bytes

    obj = root / ".pv" / "cache" / hash_bytes(content).relpath()
    os.chmod(obj.parent, 0o755)
    obj.unlink()


def test_a_directory_whose_file_object_is_gone_from_the_cache_is_not_in_cache(pv_repo: Path, pv: PvRunner) -> None:
    gen({"d": {"a.csv": "a\n", "b.csv": "b\n"}})
    pv.ok("add", "d")
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"  # remembered as complete
    _drop_object(pv_repo, b"a\n")  # by hand, a disk error, another tool: not by pv gc
    res = pv("status")
    assert res.stdout == "d.pv:\n\tchanged outs:\n\t\tnot in cache:       d\n", res
    pv.ok("commit", "--force", "d")  # the workspace still has it: back in the cache
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"


def test_a_switched_cache_does_not_inherit_completeness(pv_repo: Path, pv: PvRunner, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    gen({"d": {"a.csv": "a\n", "b.csv": "b\n"}})
    pv.ok("add", "d")
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"
    other = tmp_path / "other-cache"
    shutil.copytree(pv_repo / ".pv" / "cache", other)
    monkeypatch.setenv("PV_CACHE_DIR", str(other))
    from pipever.objects.hashing import hash_bytes

    obj = other / hash_bytes(b"b\n").relpath()
    os.chmod(obj.parent, 0o755)
    obj.unlink()
    res = pv("status")
    assert res.stdout == "d.pv:\n\tchanged outs:\n\t\tnot in cache:       d\n", res


# -- case 8: an edit through a link to the cache ------------------------------------------------
@pytest.mark.parametrize("link", ["hardlink", "symlink"])
def test_an_edit_through_a_link_into_the_cache_is_reported_as_corrupt(pv_repo: Path, pv: PvRunner, link: str) -> None:
    """Root ignores the read-only bit of cache objects (so does a tool that chmods first): writing
    to a workspace file linked to the cache changes the object itself, and the old version is
    gone. status must not call that up to date, and must say the cache object is damaged."""
    pv.ok("config", "cache.type", link)
    gen({"f.txt": "v1\n", "d": {"a.csv": "a\n", "b.csv": "b\n"}})
    pv.ok("add", "f.txt", "d")
    cached = [p for p in Path(".pv/cache").rglob("*") if p.is_file() and not p.name.endswith(".dir")]
    assert cached and all(not (p.stat().st_mode & 0o222) for p in cached), "cache objects are read-only"
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"
    with open("f.txt", "a") as f:  # in place, through the link (as root: the mode does not stop it)
        f.write("v2\n")
    with open("d/a.csv", "a") as f:
        f.write("more\n")
    res = pv("status")
    assert res.stdout == ("d.pv:\n\tchanged outs:\n\t\tcorrupt in cache:   d\n"
                          "f.txt.pv:\n\tchanged outs:\n\t\tcorrupt in cache:   f.txt\n"), res
    assert ("WARNING: the cache object of 'f.txt' was changed through its link in the workspace: "
            "the recorded version is lost") in res.stderr, res
    assert "pv fsck --repair" in res.stderr and "pv unprotect f.txt" in res.stderr, res
    # what the warning says to do keeps the edit and gets rid of the damaged object
    pv.ok("unprotect", "f.txt", "d")
    assert Path("f.txt").read_text() == "v1\nv2\n" and Path("d/a.csv").read_text() == "a\nmore\n"
    res = pv.ok("status")
    assert res.stdout == "d.pv:\n\tchanged outs:\n\t\tmodified:           d\nf.txt.pv:\n\tchanged outs:\n\t\tmodified:           f.txt\n", res
    assert pv("fsck", "--repair").exit_code in (0, 1)
    pv.ok("add", "f.txt", "d")
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"
    assert pv.ok("fsck").exit_code == 0
