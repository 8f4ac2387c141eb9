from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pipever import api
from pipever.errors import CorruptObjectError, ObjectNotFoundError, PathOutsideRepoError, PvError, TargetError
from pipever.objects.hashing import hash_bytes
from pipever.commands.project.init import init
from pipever.repo import Repo


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    init(tmp_path, no_scm=True)
    monkeypatch.chdir(tmp_path)  # add targets are relative to the cwd
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "sub" / "x.txt").write_text("inside\n")
    (tmp_path / "f.bin").write_bytes(b"\x00\x01binary")
    (tmp_path / "t.txt").write_text("héllo\nworld\n", encoding="utf-8")
    with Repo(tmp_path) as r:
        r.add(["d", "f.bin", "t.txt"])
    return tmp_path


def cache_object(root: Path, data: bytes) -> Path:
    h = hash_bytes(data).hex
    return root / ".pv" / "cache" / "blake3" / h[:2] / h[2:]


def test_reads_the_workspace_file(repo: Path) -> None:
    assert api.read("t.txt", repo=str(repo), encoding="utf-8") == "héllo\nworld\n"
    assert api.read("f.bin", repo=str(repo), mode="rb") == b"\x00\x01binary"
    assert api.read(str(repo / "d" / "sub" / "x.txt"), repo=str(repo)) == "inside\n"  # absolute path


def test_falls_back_to_the_cache_when_not_checked_out(repo: Path) -> None:
    os.unlink(repo / "t.txt")
    shutil.rmtree(repo / "d")
    assert api.read("t.txt", repo=str(repo), encoding="utf-8") == "héllo\nworld\n"
    assert api.read("d/sub/x.txt", repo=str(repo)) == "inside\n"
    with api.open("t.txt", repo=str(repo), encoding="utf-8") as f:
        assert [line for line in f] == ["héllo\n", "world\n"]


def test_a_corrupt_cache_object_is_detected_at_the_end_of_the_stream(repo: Path) -> None:
    os.unlink(repo / "t.txt")
    obj = cache_object(repo, "héllo\nworld\n".encode())
    os.chmod(obj, 0o644)
    obj.write_text("tampered!!\n")
    with pytest.raises(CorruptObjectError) as exc:
        api.read("t.txt", repo=str(repo))
    assert exc.value.oid == str(hash_bytes("héllo\nworld\n".encode()))


def test_seeking_reads_without_a_false_alarm(repo: Path) -> None:
    os.unlink(repo / "f.bin")
    with api.open("f.bin", repo=str(repo), mode="rb") as f:
        f.seek(2)
        assert f.read() == b"binary"
        f.seek(0)
        assert f.read() == b"\x00\x01binary"


def test_missing_object(repo: Path) -> None:
    os.unlink(repo / "f.bin")
    os.unlink(cache_object(repo, b"\x00\x01binary"))
    with pytest.raises(ObjectNotFoundError) as exc:
        api.read("f.bin", repo=str(repo), mode="rb")
    oid = hash_bytes(b"\x00\x01binary")
    assert exc.value.render() == f"object 'f.bin' ({oid}) is not in the cache — run 'pv pull' to fetch it"


def test_errors(repo: Path) -> None:
    with pytest.raises(ValueError, match="only reads"):
        api.read("t.txt", repo=str(repo), mode="w")
    with pytest.raises(TargetError, match="'d' is a directory"):
        api.read("d", repo=str(repo))
    shutil.rmtree(repo / "d")
    with pytest.raises(TargetError, match="'d/sub' is a directory"):
        api.read("d/sub", repo=str(repo))
    with pytest.raises(TargetError, match="'d/nope' is not in the tracked directory 'd'"):
        api.read("d/nope", repo=str(repo))
    with pytest.raises(TargetError) as exc:
        api.read("nothing.csv", repo=str(repo))
    assert exc.value.render() == "'nothing.csv' does not exist in the workspace — check the path (relative to the repository root)"
    with pytest.raises(PathOutsideRepoError):
        api.read("../etc/passwd", repo=str(repo))
    with pytest.raises(PathOutsideRepoError):
        api.read(".pv/config.yaml", repo=str(repo))
    with pytest.raises(PvError, match="refusing the repository URL"):  # Git URLs are cloned, unsafe ones refused
        api.read("t.txt", repo="ext::sh -c true")
