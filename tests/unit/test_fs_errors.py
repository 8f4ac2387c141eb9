"""FileSystemError: what failed, the OS's reason, and what to do by errno."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from pipever.errors import FileSystemError, PathOutsideRepoError
from pipever.fsutil import atomic_write, is_tmp_name, tmp_name
from pipever.paths import read_inside, resolve_inside


@pytest.mark.parametrize(("code", "hint"), [
    (errno.ENOSPC, "free some space (or raise the file size limit) and rerun the command; nothing partial was kept"),
    (errno.EFBIG, "free some space (or raise the file size limit) and rerun the command; nothing partial was kept"),
    (errno.EACCES, "check the file's permissions (and those of its directory) and rerun the command"),
    (errno.EROFS, "the file system is read-only; use a writable location"),
    (errno.EMFILE, "raise the open-file limit ('ulimit -n') and rerun the command"),
    (errno.EIO, "rerun the command; use -v for details"),
])
def test_file_system_error_renders_what_why_and_what_to_do(code: int, hint: str) -> None:
    exc = FileSystemError("cannot write 'data/a.csv'", OSError(code, "Some reason"), path="data/a.csv")
    assert exc.render() == f"cannot write 'data/a.csv': Some reason — {hint}"
    assert (exc.path, exc.errno) == ("data/a.csv", code)


def test_atomic_write_names_its_target_and_leaves_no_temp_file(tmp_path: Path) -> None:
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro" / "x").mkdir()  # a directory where the file should go: replace fails
    with pytest.raises(FileSystemError, match="cannot write '.*ro/x'"):
        atomic_write(tmp_path / "ro" / "x", b"data")
    assert [p.name for p in (tmp_path / "ro").iterdir()] == ["x"]


def test_temp_names_are_recognized_and_user_names_are_not(tmp_path: Path) -> None:
    assert is_tmp_name(tmp_name(tmp_path / "data.csv").name)
    assert is_tmp_name(tmp_name(tmp_path / "a\nb").name)
    for name in ("x.pvtmp", ".x.pvtmp", ".x.0123456789ab.pvtmp.bak", ".x.0123456789AB.pvtmp", "data.csv"):
        assert not is_tmp_name(name), name


def test_read_inside_refuses_symlinks_out_of_the_work_tree(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / ".git").mkdir(parents=True)
    (root / "real").mkdir()
    (root / "real" / "f").write_text("inside")
    (tmp_path / "secret").write_text("outside")
    (root / "in").symlink_to("real")
    (root / "out").symlink_to(tmp_path)
    (root / "cfg").symlink_to(".git")
    assert read_inside(root, "in/f") == b"inside"
    assert read_inside(root, "missing") is None
    with pytest.raises(PathOutsideRepoError, match="goes through the symlink 'out'"):
        read_inside(root, "out/secret")
    with pytest.raises(PathOutsideRepoError, match="is a symlink to"):
        resolve_inside(root, "cfg")
