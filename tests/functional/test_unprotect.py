from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from tests.helpers import PvRunner, gen


def plain_writable(path: str) -> bool:
    st = os.lstat(path)
    return stat.S_ISREG(st.st_mode) and st.st_nlink == 1 and bool(st.st_mode & stat.S_IWUSR)


@pytest.mark.parametrize("link", ["hardlink", "symlink"])
def test_unprotect_file_makes_a_private_writable_copy(pv_repo: Path, pv: PvRunner, link: str) -> None:
    pv.ok("config", "cache.type", link)
    gen({"f.txt": "v1\n"})
    pv.ok("add", "f.txt")
    assert not plain_writable("f.txt")
    res = pv("unprotect", "f.txt")
    assert (res.exit_code, res.stdout) == (0, "Unprotected 1 file(s) in f.txt\n")
    assert plain_writable("f.txt")
    Path("f.txt").write_text("edited\n")
    # the cache object is untouched and still read-only
    obj = next(p for p in Path(".pv/cache/blake3").glob("*/*"))
    assert obj.read_text() == "v1\n" and not os.stat(obj).st_mode & stat.S_IWUSR
    assert "modified" in pv("status").stdout


def test_unprotect_directory_keeps_exec_bits_and_status(pv_repo: Path, pv: PvRunner) -> None:
    pv.ok("config", "cache.type", "symlink")
    gen({"d": {"run.sh": "#!/bin/sh\n", "sub": {"x": "x\n"}}})
    os.chmod("d/run.sh", 0o755)
    old = time.time() - 100
    for p in ("d/run.sh", "d/sub/x"):
        os.utime(p, (old, old))
    pv.ok("add", "d")
    assert os.path.islink("d/sub/x")
    assert not os.path.islink("d/run.sh")  # executables are never shared links (their bit is per path)
    # the copies get the cache objects' mtimes, just written: wait until the state db may vouch
    # for such a time (it never records a racy one), else this depends on how fast the machine is
    from pipever.objects.state import is_racy

    objects = [p for p in (pv_repo / ".pv/cache").rglob("*") if p.is_file()]
    while any(is_racy(p.stat(), time.time_ns()) for p in objects):
        time.sleep(0.01)
    res = pv("unprotect", "d")
    assert res.stdout == "Unprotected 1 file(s) in d\n"
    assert plain_writable("d/run.sh") and plain_writable("d/sub/x")
    assert os.stat("d/run.sh").st_mode & stat.S_IXUSR
    assert not os.stat("d/sub/x").st_mode & stat.S_IXUSR
    assert pv("status").stdout == "Data and pipelines are up to date.\n"
    from pipever.repo import Repo

    with Repo() as repo:  # the new inodes are known: status will not re-hash them
        assert repo.state.get("d/sub/x", os.stat("d/sub/x")) is not None


def test_unprotect_one_file_inside_a_directory(pv_repo: Path, pv: PvRunner) -> None:
    pv.ok("config", "cache.type", "hardlink")
    gen({"d": {"a": "a\n", "b": "b\n"}})
    pv.ok("add", "d")
    assert pv("unprotect", "d/a").stdout == "Unprotected 1 file(s) in d/a\n"
    assert plain_writable("d/a") and not plain_writable("d/b")


def test_unprotect_copies_is_a_no_op(pv_repo: Path, pv: PvRunner) -> None:
    pv.ok("config", "cache.type", "copy")
    gen({"f": "f\n"})
    pv.ok("add", "f")
    ino = os.stat("f").st_ino
    assert pv("unprotect", "f").stdout == "Unprotected 0 file(s) in f\n"
    assert os.stat("f").st_ino == ino


def test_unprotect_errors(pv_repo: Path, pv: PvRunner) -> None:
    gen({"plain": "p\n", "f": "f\n"})
    pv.ok("add", "f")
    res = pv("unprotect", "plain")
    assert (res.exit_code, res.stderr) == (1, "ERROR: 'plain' is not tracked by pipever — run 'pv add plain' to track it\n")
    os.unlink("f")
    res = pv("unprotect", "f")
    assert (res.exit_code, res.stderr) == (1, "ERROR: 'f' does not exist — 'pv checkout' it first\n")
    res = pv("unprotect", "../outside")
    assert (res.exit_code, res.stderr) == (1, "ERROR: path '../outside' is outside the repository — use a path inside the work tree, not in .git or .pv\n")
