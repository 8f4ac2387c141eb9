"""push, fetch, pull on every kind of remote (the ``remote`` fixture: local folder and moto S3)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import gen, git, git_commit
from tests.s3server import RemoteCase

DATA = {
    "data": {"a.csv": "x,y\n1,2\n", "sub": {"b.bin": bytes(range(256)) * 40, "c.txt": "same"}, "d.txt": "same"},
    "model.pkl": b"\x80\x04weights" * 1000,
}


def _snapshot(root: Path) -> dict[str, bytes]:
    out = {}
    for base in ("data", "model.pkl"):
        p = root / base
        files = [p] if p.is_file() else sorted(q for q in p.rglob("*") if q.is_file())
        for f in files:
            out[f.relative_to(root).as_posix()] = f.read_bytes()
    return out


def _setup(pv, remote: RemoteCase) -> None:
    gen(DATA)
    pv.ok("add", "data", "model.pkl")
    remote.configure(pv)
    git("add", ".pv/config.yaml")
    git_commit("data")


def _clone(src: Path, remote: RemoteCase, pv, name: str = "clone") -> Path:
    dst = src.parent / name
    git("clone", "-q", str(src), str(dst))
    for k, v in remote.local_options.items():  # credentials live in the git-ignored local config
        pv.ok("remote", "modify", "--local", "storage", k, v, cwd=dst)
    return dst


def test_push_then_pull_in_a_fresh_clone_is_byte_identical(pv_repo: Path, pv, remote: RemoteCase) -> None:
    _setup(pv, remote)
    res = pv.ok("push")
    # a.csv, b.bin, c.txt (== d.txt, stored once), model.pkl, the directory manifest
    assert res.stdout.strip().splitlines()[-1] == "5 files pushed"
    stored = remote.stored()
    assert len(stored) == 5
    assert all(s.startswith("blake3/") for s in stored)
    assert sum(s.endswith(".dir") for s in stored) == 1
    assert any(s.startswith("packs/") for s in remote.objects()) == (remote.layout == "packed")

    clone = _clone(pv_repo, remote, pv)
    res = pv.ok("pull", cwd=clone)
    assert "5 files fetched" in res.stdout
    assert _snapshot(clone) == _snapshot(pv_repo)
    assert pv.ok("pull", cwd=clone).stdout.strip() == "Everything is up to date."


def test_push_twice_uploads_nothing_the_second_time(pv_repo: Path, pv, remote: RemoteCase) -> None:
    _setup(pv, remote)
    pv.ok("push")
    before = remote.objects()
    res = pv.ok("push")
    assert res.stdout.strip() == "Everything is up to date."
    assert remote.objects() == before


def test_push_sends_only_new_objects(pv_repo: Path, pv, remote: RemoteCase) -> None:
    _setup(pv, remote)
    pv.ok("push")
    gen({"data": {"new.txt": "brand new"}})
    pv.ok("add", "data")
    res = pv.ok("push")
    assert res.stdout.strip() == "2 files pushed"  # the new file and the new manifest


def test_fetch_then_checkout_equals_pull(pv_repo: Path, pv, remote: RemoteCase) -> None:
    _setup(pv, remote)
    pv.ok("push")
    clone = _clone(pv_repo, remote, pv)
    assert "5 files fetched" in pv.ok("fetch", cwd=clone).stdout
    assert not (clone / "model.pkl").exists()
    pv.ok("checkout", cwd=clone)
    assert _snapshot(clone) == _snapshot(pv_repo)


def test_corrupt_remote_object_is_rejected_and_not_kept(pv_repo: Path, pv, remote: RemoteCase) -> None:
    _setup(pv, remote)
    pv.ok("push")
    from pipever.objects.hashing import hash_bytes

    oid = hash_bytes(DATA["model.pkl"])
    remote.corrupt(oid.relpath())
    clone = _clone(pv_repo, remote, pv)
    res = pv("pull", cwd=clone)
    assert res.exit_code == 1
    assert res.stderr.startswith("ERROR: ")
    assert str(oid) in res.stderr and "corrupt" in res.stderr
    cache = clone / ".pv" / "cache"
    assert not (cache / oid.relpath()).exists()
    assert not [p for p in cache.rglob("*") if p.name.endswith(".pvtmp")]
    assert not (clone / "model.pkl").exists()
    # everything else arrived and was checked out
    assert (clone / "data" / "sub" / "b.bin").read_bytes() == DATA["data"]["sub"]["b.bin"]  # type: ignore[index]
    # a good copy pushed again heals the remote; the next pull completes
    remote.remove(oid.relpath())
    assert pv.ok("push").stdout.strip() == "1 file pushed"
    pv.ok("pull", cwd=clone)
    assert _snapshot(clone) == _snapshot(pv_repo)


def test_partial_push_failure_keeps_the_rest_and_a_rerun_resumes(
    pv_repo: Path, pv, loose_remote: RemoteCase, monkeypatch: pytest.MonkeyPatch,
) -> None:
    remote = loose_remote  # one upload per object (packs: test_packs.py)
    _setup(pv, remote)
    from pipever.objects.hashing import hash_bytes
    from pipever.remote.base import Remote
    from pipever.remote.local import LocalRemote

    bad = hash_bytes(DATA["data"]["sub"]["b.bin"])  # type: ignore[index]
    originals = {cls: cls.upload for cls in (Remote, LocalRemote)}

    def flaky(real):  # type: ignore[no-untyped-def]
        def upload(self, ref, src):  # type: ignore[no-untyped-def]
            if ref.oid == bad:
                raise OSError(5, "Input/output error")
            return real(self, ref, src)
        return upload

    for cls, real in originals.items():
        monkeypatch.setattr(cls, "upload", flaky(real))
    res = pv("push")
    assert res.exit_code == 1
    assert "failed to push 2 object(s)" in res.stderr  # the file, and its directory's manifest
    assert "data/sub/b.bin" in res.stderr and str(bad) in res.stderr
    assert "Input/output error" in res.stderr
    stored = remote.objects()
    assert len(stored) == 3 and not any(s.endswith(".dir") for s in stored)

    for cls, real in originals.items():
        monkeypatch.setattr(cls, "upload", real)
    assert pv.ok("push").stdout.strip() == "2 files pushed"
    assert len(remote.objects()) == 5


def test_fetch_reports_objects_the_remote_lacks(pv_repo: Path, pv, remote: RemoteCase) -> None:
    _setup(pv, remote)
    pv.ok("push")
    from pipever.objects.hashing import hash_bytes

    oid = hash_bytes(DATA["model.pkl"])
    remote.remove(oid.relpath())
    clone = _clone(pv_repo, remote, pv)
    res = pv("fetch", cwd=clone)
    assert res.exit_code == 1
    assert "4 files fetched" in res.stdout
    assert "1 object(s) are not on remote 'storage'" in res.stderr and "model.pkl" in res.stderr


def test_push_of_data_missing_from_cache_and_remote_is_an_error(pv_repo: Path, pv, remote: RemoteCase) -> None:
    _setup(pv, remote)
    from pipever.objects.hashing import hash_bytes

    oid = hash_bytes(DATA["model.pkl"])
    obj = pv_repo / ".pv" / "cache" / oid.relpath()
    obj.chmod(0o644)
    obj.unlink()
    res = pv("push")
    assert res.exit_code == 1
    assert "4 files pushed" in res.stdout
    assert "neither in the cache nor on remote 'storage'" in res.stderr and "model.pkl" in res.stderr
    res = pv("push")  # nothing left to push, but it is not "up to date" either
    assert (res.exit_code, res.stdout) == (1, "")
    assert "neither in the cache nor on remote 'storage'" in res.stderr
    assert pv("push", "-j", "-1").exit_code == 2  # a usage error, like any bad option value


def test_targets_limit_what_is_pushed_and_pulled(pv_repo: Path, pv, remote: RemoteCase) -> None:
    _setup(pv, remote)
    assert pv.ok("push", "model.pkl").stdout.strip() == "1 file pushed"
    assert pv.ok("push", "data.pv").stdout.strip() == "4 files pushed"
    clone = _clone(pv_repo, remote, pv)
    pv.ok("pull", "model.pkl", cwd=clone)
    assert (clone / "model.pkl").exists() and not (clone / "data").exists()
    res = pv("push", "nope.txt")
    assert res.exit_code == 1 and "'nope.txt' is not tracked by pipever" in res.stderr


def test_all_commits_pushes_history_and_fetches_it(pv_repo: Path, pv, remote: RemoteCase) -> None:
    _setup(pv, remote)
    (pv_repo / "model.pkl").chmod(0o644)
    (pv_repo / "model.pkl").write_bytes(b"version 2")
    pv.ok("add", "model.pkl")
    git_commit("v2")
    assert pv.ok("push").stdout.strip() == "5 files pushed"  # v2 model + the data
    assert pv.ok("push", "-A").stdout.strip() == "1 file pushed"  # v1 model
    assert pv.ok("push", "-a", "-T").stdout.strip() == "Everything is up to date."
    clone = _clone(pv_repo, remote, pv)
    assert "6 files fetched" in pv.ok("fetch", "-A", cwd=clone).stdout


def test_push_false_outs_stay_local(pv_repo: Path, pv, remote: RemoteCase) -> None:
    _setup(pv, remote)
    text = (pv_repo / "model.pkl.pv").read_text()
    (pv_repo / "model.pkl.pv").write_text(text.replace("  size:", "  push: false\n  size:", 1))
    git_commit("keep the model local")
    assert pv.ok("push").stdout.strip() == "4 files pushed"
    clone = _clone(pv_repo, remote, pv)
    res = pv.ok("fetch", cwd=clone)  # never pushed, so not reported missing
    assert "4 files fetched" in res.stdout


def test_jobs_flag_and_option_are_accepted(pv_repo: Path, pv, remote: RemoteCase) -> None:
    _setup(pv, remote)
    pv.ok("remote", "modify", "storage", "jobs", "2")
    assert pv.ok("push", "-j", "1").stdout.strip() == "5 files pushed"


def test_push_without_a_remote_says_how_to_add_one(pv_repo: Path, pv) -> None:
    gen({"f.txt": "x"})
    pv.ok("add", "f.txt")
    res = pv("push")
    assert res.exit_code == 1
    assert res.stderr == (
        "ERROR: no remote given and no default remote set — run 'pv remote add -d NAME URL' or pass -r NAME\n"
    )
    res = pv("push", "-r", "nowhere")
    assert res.stderr == "ERROR: remote 'nowhere' does not exist — see 'pv remote list'\n"


def local_case_objects(root: Path) -> set[str]:
    """Objects stored in a local remote folder, in either layout."""
    from fsspec.implementations.local import LocalFileSystem

    return RemoteCase("local", str(root), str(root), LocalFileSystem()).stored()


def test_pv_remote_env_overrides_the_default(pv_repo: Path, pv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gen({"f.txt": "x"})
    pv.ok("add", "f.txt")
    pv.ok("remote", "add", "-d", "one", str(tmp_path / "one"))
    pv.ok("remote", "add", "two", str(tmp_path / "two"))
    monkeypatch.setenv("PV_REMOTE", "two")
    pv.ok("push")
    assert (tmp_path / "two" / "pv-remote.yaml").is_file() and not (tmp_path / "one").exists()
    monkeypatch.delenv("PV_REMOTE")
    pv.ok("push")
    assert (tmp_path / "one" / "pv-remote.yaml").is_file()


def test_per_out_remote_wins_over_the_default_and_r_wins_over_both(pv_repo: Path, pv, tmp_path: Path) -> None:
    gen({"f.txt": "x", "g.txt": "y"})
    pv.ok("add", "f.txt", "g.txt")
    pv.ok("remote", "add", "-d", "main", str(tmp_path / "main"))
    pv.ok("remote", "add", "side", str(tmp_path / "side"))
    p = pv_repo / "g.txt.pv"
    p.write_text(p.read_text().replace("  size:", "  remote: side\n  size:", 1))
    pv.ok("push")
    count = lambda d: len(local_case_objects(tmp_path / d))  # noqa: E731
    assert count("main") == 1 and count("side") == 1
    pv.ok("remote", "add", "third", str(tmp_path / "third"))
    pv.ok("push", "-r", "third")
    assert count("third") == 2


def test_relative_local_remote_path_is_relative_to_the_repo_root(pv_repo: Path, pv) -> None:
    gen({"f.txt": "x", "sub": {}})
    pv.ok("add", "f.txt")
    pv.ok("remote", "add", "-d", "rel", "../relstore", cwd=pv_repo / "sub")
    assert "url: relstore\n" in (pv_repo / ".pv" / "config.yaml").read_text()
    pv.ok("push", cwd=pv_repo / "sub")
    assert (pv_repo / "relstore" / "pv-remote.yaml").is_file()
    assert not os.path.exists(pv_repo.parent / "relstore")
