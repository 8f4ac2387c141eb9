"""pv status -c: new / deleted / missing, as DVC's status --cloud words them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import gen, git, git_commit
from tests.s3server import RemoteCase


def test_status_cloud_new_then_in_sync_then_deleted_and_missing(pv_repo: Path, pv, remote: RemoteCase) -> None:
    gen({"data": {"a.txt": "a", "b.txt": "b"}, "m.bin": b"model"})
    pv.ok("add", "data", "m.bin")
    remote.configure(pv)
    res = pv.ok("status", "-c")
    assert res.stdout == (
        "\tnew:                data/\n"
        "\tnew:                data/a.txt\n"
        "\tnew:                data/b.txt\n"
        "\tnew:                m.bin\n"
    )
    assert pv("status", "-c", "-q").exit_code == 3
    assert (pv("-q", "status", "-c").exit_code, pv("-q", "status", "-c").stdout) == (3, "")
    pv.ok("push")
    assert pv.ok("status", "-c").stdout == "Cache and remote 'storage' are in sync.\n"
    assert pv("status", "--cloud", "--quiet").exit_code == 0
    assert json.loads(pv.ok("status", "-c", "--json").stdout) == {}

    git("add", ".pv/config.yaml")
    git_commit("data")
    clone = pv_repo.parent / "clone"
    git("clone", "-q", str(pv_repo), str(clone))
    for k, v in remote.local_options.items():
        pv.ok("remote", "modify", "--local", "storage", k, v, cwd=clone)
    from pipever.objects.hashing import hash_bytes

    remote.remove(hash_bytes(b"model").relpath())
    res = pv.ok("status", "-c", "--json", cwd=clone)
    # the manifest was fetched (verified) to learn the directory's files
    assert json.loads(res.stdout) == {"data/a.txt": "deleted", "data/b.txt": "deleted", "m.bin": "missing"}


def test_status_cloud_targets_and_remote_flag(pv_repo: Path, pv, remote: RemoteCase, tmp_path: Path) -> None:
    gen({"a.txt": "a", "b.txt": "b"})
    pv.ok("add", "a.txt", "b.txt")
    remote.configure(pv)
    pv.ok("push", "a.txt")
    assert json.loads(pv.ok("status", "-c", "--json", "b.txt").stdout) == {"b.txt": "new"}
    assert json.loads(pv.ok("status", "-c", "--json", "a.txt").stdout) == {}
    pv.ok("remote", "add", "other", str(tmp_path / "other"))
    assert json.loads(pv.ok("status", "-r", "other", "--json").stdout) == {"a.txt": "new", "b.txt": "new"}


def test_status_cloud_with_no_tracked_data_is_in_sync(pv_repo: Path, pv) -> None:
    assert pv.ok("status", "-c").stdout == "Cache and remotes are in sync.\n"
