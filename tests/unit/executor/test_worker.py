"""The worker side, outside a cluster: a tree built from a (local-folder) remote by oid, the
commands run in a scratch folder, outputs hashed and pushed; a failing command is a result."""

from __future__ import annotations

from pathlib import Path

from pipever.executor import objects as xo
from pipever.executor.task import OutSpec, RemoteRef, StageTask, TreePart
from pipever.executor.worker import run_task
from pipever.objects.hashing import hash_bytes
from pipever.objects.manifest import Entry, Manifest
from pipever.objects.odb import ObjectDB, ObjectRef
from pipever.remote.local import make_remote
from pipever.remote.url import parse


def setup(tmp_path: Path) -> tuple[RemoteRef, ObjectDB, str, str]:
    """A remote holding a tree (run.sh, executable) and a data file outside it."""
    odb = ObjectDB(tmp_path / "driver-cache")
    script = b"cat data.txt > out/copy.txt\necho made it\n"
    data = b"payload\n"
    s_oid, d_oid = odb.add_bytes(script), odb.add_bytes(data)
    tree = odb.add_manifest(Manifest.build([Entry("run.sh", s_oid, len(script), True)]))
    spec = parse(str(tmp_path / "remote"))
    remote = make_remote("store", spec, {})
    xo.push(remote, odb, [ObjectRef(tree, True), ObjectRef(d_oid, False)])
    return RemoteRef("store", spec, {}), odb, str(tree), str(d_oid)


def task(ref: RemoteRef, tree: str, data: str, *commands: str) -> StageTask:
    return StageTask(stage="s", commands=commands, wdir=".", outs=(OutSpec("out"),), tree=tree,
                     extra=(TreePart("data.txt", data),), remote=ref)


def test_run_task_builds_the_tree_runs_and_pushes_the_outputs(tmp_path: Path) -> None:
    ref, _, tree, data = setup(tmp_path)
    res = run_task(task(ref, tree, data, "mkdir out", "./run.sh"))
    assert res.ok, res
    assert res.tail == ("made it",)
    (out,) = res.outs
    assert out.path == "out" and out.nfiles == 1 and out.size == len(b"payload\n")
    back = ObjectDB(tmp_path / "check")
    xo.fetch(make_remote("store", ref.spec, {}), back, [xo.ref(out.oid, is_dir=True)])
    (entry,) = back.read_manifest(xo.ref(out.oid).oid).entries
    assert entry.path == "copy.txt" and entry.oid == hash_bytes(b"payload\n")


def test_a_failing_command_is_a_result_with_its_code_and_tail(tmp_path: Path) -> None:
    ref, _, tree, data = setup(tmp_path)
    res = run_task(task(ref, tree, data, "echo one; echo two >&2; exit 7", "echo never"))
    assert not res.ok
    assert res.returncode == 7 and res.command == "echo one; echo two >&2; exit 7" and res.error is None
    assert res.tail == ("one", "two")
    assert res.outs == ()


def test_a_missing_output_is_an_error_result(tmp_path: Path) -> None:
    ref, _, tree, data = setup(tmp_path)
    res = run_task(task(ref, tree, data, "true"))
    assert res.returncode == 1 and res.error == "output 'out' of stage 's' was not created"
