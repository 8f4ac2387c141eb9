from __future__ import annotations

from pathlib import Path

import pytest

from pipever import api
from pipever.errors import GitError, ObjectNotFoundError, TargetError
from pipever.objects.hashing import hash_bytes
from tests.helpers import PvRunner, gen, git, git_commit


@pytest.fixture
def history(pv_repo: Path, pv: PvRunner) -> Path:
    gen({"params.yaml": "lr: 0.1\n", "data": {"a.csv": "a1\n"}, "model.bin": b"m1"})
    pv.ok("add", "data", "model.bin")
    git_commit("v1")
    git("tag", "v1")
    gen({"params.yaml": "lr: 0.2\n", "data": {"a.csv": "a2\n", "b.csv": "b\n"}, "model.bin": b"m2"})
    pv.ok("add", "data", "model.bin")
    git_commit("v2")
    return pv_repo


def test_reads_a_revision_without_checking_it_out(history: Path) -> None:
    assert api.read("model.bin", rev="v1", mode="rb") == b"m1"
    assert api.read("data/a.csv", rev="HEAD~1") == "a1\n"
    assert api.read("data/b.csv", rev="main") == "b\n"
    assert api.read("params.yaml", rev="v1") == "lr: 0.1\n"  # a plain Git file
    assert Path("data/a.csv").read_text() == "a2\n"  # the workspace is untouched
    assert git("status", "--porcelain") == ""


def test_workspace_and_head(history: Path) -> None:
    gen({"data": {"a.csv": "edited\n"}})
    assert api.read("data/a.csv") == "edited\n"
    assert api.read("data/a.csv", rev="HEAD") == "a2\n"
    with api.open("data/a.csv", rev="HEAD", repo=str(history)) as f:
        assert f.readline() == "a2\n"


def test_from_another_directory(history: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert api.read("model.bin", repo=str(history), rev="v1", mode="rb") == b"m1"


def test_object_missing_from_the_cache(history: Path, pv: PvRunner) -> None:
    pv.ok("gc", "-w", "-f")
    with pytest.raises(ObjectNotFoundError) as exc:
        api.read("model.bin", rev="v1", mode="rb")
    assert exc.value.render() == f"object 'model.bin' ({hash_bytes(b'm1')}) is not in the cache — run 'pv pull' to fetch it"


def test_revision_errors(history: Path) -> None:
    with pytest.raises(GitError) as exc:
        api.read("model.bin", rev="nope")
    assert exc.value.render() == "unknown revision 'nope' — use a branch, tag or commit that exists ('git log')"
    with pytest.raises(TargetError) as exc2:
        api.read("data/b.csv", rev="v1")
    assert exc2.value.render() == "'data/b.csv' is not in the tracked directory 'data' — check the path"
    with pytest.raises(TargetError) as exc2:
        api.read("missing.txt", rev="v1")
    assert exc2.value.render() == "'missing.txt' does not exist in 'v1' — check the path (relative to the repository root)"


def test_a_remote_that_cannot_be_used_is_named_not_hidden_as_a_missing_object(history: Path, pv: PvRunner) -> None:
    """remote='typo' (or a remote with a bad URL) was reported as 'not in the cache — run pv pull'."""
    from pipever.errors import RemoteError, RemoteNotFoundError

    pv.ok("gc", "-w", "-f")
    with pytest.raises(RemoteNotFoundError) as exc:
        api.read("model.bin", rev="v1", mode="rb", remote="typo")
    assert exc.value.render() == "remote 'typo' does not exist — see 'pv remote list'"
    pv.ok("config", "--local", "remote.odd.url", "foo://x")
    with pytest.raises(RemoteError, match="unsupported remote URL scheme 'foo'"):
        api.read("model.bin", rev="v1", mode="rb", remote="odd")
    with pytest.raises(ObjectNotFoundError):  # no remote at all: the object is simply not here
        api.read("model.bin", rev="v1", mode="rb")
