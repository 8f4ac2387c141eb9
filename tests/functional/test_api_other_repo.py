"""pipever.api with repo= a Git URL, the fallback to the remote, and get_url."""

from __future__ import annotations

from pathlib import Path

import pytest

import pipever.api as api
from pipever.errors import ObjectNotFoundError
from pipever.objects.hashing import hash_bytes
from tests.helpers import PvRunner, gen, git


@pytest.fixture
def source(tmp_path: Path, pv: PvRunner) -> Path:
    """A pv repository with data pushed to its default remote, a params file and two commits."""
    root = tmp_path / "source"
    git("init", "-q", "-b", "main", str(root))
    pv.ok("init", cwd=root)
    pv.ok("config", "remote.store.url", str(tmp_path / "store"), cwd=root)
    pv.ok("config", "core.remote", "store", cwd=root)
    # one file per object: get_url() names those paths (a packed remote has no URL per object)
    pv.ok("config", "remote.store.layout", "loose", cwd=root)
    gen({"data": {"images": {"a.png": "A1", "sub": {"b.png": "B"}}}, "model.pkl": b"\x80v1", "params.yaml": "lr: 0.1\n"}, root)
    pv.ok("add", "data/images", "model.pkl", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "v1", cwd=root)
    git("tag", "v1", cwd=root)
    gen({"data": {"images": {"a.png": "A2"}}, "params.yaml": "lr: 0.2\n"}, root)
    pv.ok("add", "data/images", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "v2", cwd=root)
    pv.ok("push", "-a", "-T", cwd=root)
    return root


def test_read_from_a_git_url(tmp_dir: Path, source: Path) -> None:
    url = source.as_uri()
    assert api.read("data/images/a.png", repo=url) == "A2"
    assert api.read("data/images/a.png", repo=url, rev="v1") == "A1"
    assert api.read("data/images/a.png", repo=url, rev="HEAD~1") == "A1"
    assert api.read("data/images/sub/b.png", repo=url, mode="rb") == b"B"
    assert api.read("params.yaml", repo=url, rev="v1") == "lr: 0.1\n"  # a file Git tracks
    with api.open("model.pkl", repo=url, mode="rb") as f:
        assert f.read(1) == b"\x80" and f.read() == b"v1"


def test_params_and_metrics_from_a_git_url(tmp_dir: Path, source: Path) -> None:
    assert api.params_show(repo=source.as_uri()) == {"lr": 0.2}
    assert api.params_show(repo=source.as_uri(), rev="v1") == {"lr": 0.1}


def test_object_missing_from_the_cache_comes_from_the_remote(source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(source)
    obj = source / ".pv/cache" / hash_bytes(b"A1").relpath()
    obj.unlink()
    manifest = next((source / ".pv/cache").rglob("*.dir"))
    manifest.unlink()
    assert api.read("data/images/a.png", rev="v1") == "A1"
    assert obj.read_bytes() == b"A1"  # downloaded, verified, cached


def test_object_nowhere_raises_object_not_found(source: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(source)
    (source / ".pv/cache" / hash_bytes(b"\x80v1").relpath()).unlink()
    (tmp_path / "store" / hash_bytes(b"\x80v1").relpath()).unlink()
    (source / "model.pkl").unlink()
    with pytest.raises(ObjectNotFoundError, match="model.pkl"):
        api.read("model.pkl", mode="rb")


def test_get_url_names_the_object_on_the_remote(source: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(source)
    store = tmp_path / "store"
    assert api.get_url("model.pkl") == str(store / hash_bytes(b"\x80v1").relpath())
    assert api.get_url("data/images/a.png", rev="v1") == str(store / hash_bytes(b"A1").relpath())
    pv_dir = api.get_url("data/images")
    assert pv_dir.startswith(str(store / "blake3")) and pv_dir.endswith(".dir")
    assert api.get_url("model.pkl", repo=source.as_uri()) == str(store / hash_bytes(b"\x80v1").relpath())


def test_get_url_of_an_s3_remote_is_a_url(source: Path, pv: PvRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(source)
    pv.ok("config", "--local", "remote.s3store.url", "s3://bucket/prefix")
    url = api.get_url("model.pkl", remote="s3store")
    assert url == "s3://bucket/prefix/" + hash_bytes(b"\x80v1").relpath()


def test_reading_another_repository_runs_none_of_its_hooks_or_filters(tmp_dir: Path, source: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "post-checkout").write_text(f"#!/bin/sh\ntouch {marker}\n")
    (hooks / "post-checkout").chmod(0o755)
    git("config", "--global", "core.hooksPath", str(hooks))
    git("config", "--global", "filter.evil.smudge", f"touch {marker}; cat")
    gen({".gitattributes": "* filter=evil\n"}, source)
    git("add", ".gitattributes", cwd=source)
    git("commit", "-qm", "attributes", cwd=source)
    assert api.read("params.yaml", repo=source.as_uri()) == "lr: 0.2\n"
    assert not marker.exists()
