"""gc --cloud: only unreferenced objects go, manifests first, and nothing outside the layout."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import gen, git_commit
from tests.s3server import RemoteCase


def _two_versions(pv) -> None:  # type: ignore[no-untyped-def]
    gen({"data": {"a.txt": "a1", "same.txt": "same"}})
    pv.ok("add", "data")
    pv.ok("push")
    git_commit("v1")
    gen({"data": {"a.txt": "a2"}})
    pv.ok("add", "data")
    pv.ok("push")
    git_commit("v2")


def test_gc_cloud_deletes_only_unreferenced_objects(pv_repo: Path, pv, remote: RemoteCase) -> None:
    remote.configure(pv)
    _two_versions(pv)
    # foreign and temporary names on the remote are never touched
    remote.write("README.txt", b"not ours")
    remote.write("blake3/ab/not-an-object", b"x")
    remote.write("blake3/ab/.cd" + "0" * 60 + ".1234.pvtmp", b"x")
    before = remote.objects()
    assert sum(1 for o in before if o.endswith(".dir")) == 2

    from pipever.commands.remotes import gc_cloud
    from pipever.services import used
    from pipever.repo import Repo

    repo = Repo(pv_repo)
    keep = used.expand(repo.odb, used.used_outs(repo)).objects
    plan = gc_cloud.plan_gc_cloud(repo, keep)
    assert [r.is_dir for r in plan.remove] == [True, False]  # the old manifest first, then a1
    assert plan.kept == 3
    result = gc_cloud.apply_gc_cloud(repo, plan)
    assert len(result.removed) == 2
    after = remote.objects()
    assert before - after == {r.relpath for r in plan.remove}
    assert {"README.txt", "blake3/ab/not-an-object"} <= after
    assert pv.ok("status", "-c").stdout == "Cache and remote 'storage' are in sync.\n"

    # all commits keep v1 again: nothing more goes, and v1 is gone for good from the remote
    keep_all = used.expand(repo.odb, used.used_outs(repo, all_commits=True)).objects
    assert gc_cloud.plan_gc_cloud(repo, keep_all).remove == ()


def test_gc_cloud_keeps_files_of_a_directory_whose_manifest_only_the_remote_has(
    pv_repo: Path, pv, remote: RemoteCase,
) -> None:
    remote.configure(pv)
    gen({"data": {"a.txt": "a", "b.txt": "b"}})
    pv.ok("add", "data")
    pv.ok("push")
    from pipever.commands.remotes import gc_cloud
    from pipever.services import used
    from pipever.repo import Repo

    repo = Repo(pv_repo)
    out = used.outs_in_workspace(repo)[0]
    manifest = repo.odb.path(out.oid, is_dir=True)
    manifest.chmod(0o644)
    manifest.unlink()  # the caller's kept set now lacks the files
    keep = used.expand(repo.odb, used.used_outs(repo)).objects
    assert len(keep) == 1
    plan = gc_cloud.plan_gc_cloud(repo, keep)
    assert plan.remove == () and plan.kept == 3


def test_pv_gc_cloud_from_the_command_line(pv_repo: Path, pv, remote: RemoteCase) -> None:
    remote.configure(pv)
    _two_versions(pv)
    res = pv.ok("gc", "-w", "--cloud", "-f")
    assert "storage" in res.stdout
    assert len(remote.objects()) == 3
