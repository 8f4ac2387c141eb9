from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest

from pipever.objects.hashing import hash_bytes
from tests.helpers import PvRunner, gen, git, git_commit

CACHE = Path(".pv/cache/blake3")


def objects() -> set[str]:
    return {f"{p.parent.name}{p.name}" for p in CACHE.glob("*/*") if not p.name.endswith(".pvtmp")}


def obj(text: str) -> str:
    return hash_bytes(text.encode()).hex


A1, A2, SAME, F1, F2 = (obj(t + "\n") for t in ("a1", "a2", "same", "f1", "f2"))
MODEL = obj("model\n")


def two_versions(pv: PvRunner) -> None:
    gen({"data": {"a": "a1\n", "same": "same\n"}, "f.txt": "f1\n"})
    pv.ok("add", "data", "f.txt")
    git_commit("v1")
    pv.ok("unprotect", "data", "f.txt")  # a no-op unless the cache type links
    gen({"data": {"a": "a2\n"}, "f.txt": "f2\n"})
    pv.ok("add", "data", "f.txt")
    git_commit("v2")


def test_needs_a_scope(pv_repo: Path, pv: PvRunner) -> None:
    res = pv("gc")
    assert res.exit_code == 2
    assert ("choose what to keep: -w (workspace), -a (branches), -T (tags), -A (all commits), --all-experiments, "
            "--rev or --date") in res.stderr


def test_workspace_keeps_only_what_the_workspace_uses(pv_repo: Path, pv: PvRunner) -> None:
    two_versions(pv)
    before = objects()
    res = pv("gc", "-w", "-f")
    assert res.exit_code == 0, res
    assert res.stdout.startswith("Removed 3 object(s) (")  # a1, f1 and the old manifest
    gone = before - objects()
    assert A1 in gone and F1 in gone
    assert {A2, SAME, F2} <= objects()
    assert pv("status").stdout == "Data and pipelines are up to date.\n"
    # the workspace can still be checked out from the cache
    os.unlink("f.txt")
    pv.ok("checkout")
    assert Path("f.txt").read_text() == "f2\n"


def test_dry_lists_and_deletes_nothing(pv_repo: Path, pv: PvRunner) -> None:
    two_versions(pv)
    before = objects()
    res = pv("gc", "-w", "--dry")
    assert res.exit_code == 0, res
    lines = res.stdout.splitlines()
    assert f"blake3:{A1}  3 B" in lines
    assert f"blake3:{F1}  3 B" in lines
    assert sum(line.startswith("blake3:") and ".dir  " in line for line in lines) == 1
    assert lines[-1].startswith("3 object(s), ") and lines[-1].endswith(" B to delete from the cache; 4 in use stay.")
    assert objects() == before


def test_asks_before_deleting(pv_repo: Path, pv: PvRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    two_versions(pv)
    before = objects()
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    res = pv("gc", "-w")
    assert res.exit_code == 1
    assert "Delete these objects? [y/N]" in res.stdout
    assert res.stderr == "ERROR: nothing was deleted — rerun and answer 'y', or use -f\n"
    assert objects() == before
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    res = pv("gc", "-w")
    assert res.exit_code == 0, res
    assert len(before - objects()) == 3


def test_nothing_to_delete(pv_repo: Path, pv: PvRunner) -> None:
    gen({"x": "x\n"})
    pv.ok("add", "x")
    res = pv("gc", "-w")
    assert (res.exit_code, res.stdout) == (0, "Nothing to delete: every object in the cache is in use.\n")


def test_all_commits_keeps_history(pv_repo: Path, pv: PvRunner) -> None:
    two_versions(pv)
    before = objects()
    assert pv("gc", "-A", "-f").exit_code == 0
    assert objects() == before


def test_all_branches_and_tags(pv_repo: Path, pv: PvRunner) -> None:
    two_versions(pv)
    git("branch", "old", "HEAD~1")
    before = objects()
    pv.ok("gc", "-a", "-f")
    assert objects() == before  # branch 'old' holds v1
    git("branch", "-D", "old")
    git("tag", "v1", "HEAD~1")
    pv.ok("gc", "-a", "-f")
    assert F1 not in objects()  # tags were not asked for


def test_tags_keep_tagged_data(pv_repo: Path, pv: PvRunner) -> None:
    two_versions(pv)
    git("tag", "v1", "HEAD~1")
    pv.ok("gc", "-T", "-f")
    assert {A1, F1} <= objects()


def test_tags_of_trees_and_blobs_are_skipped(pv_repo: Path, pv: PvRunner) -> None:
    # such tags exist (linux.git's v2.6.11-tree); -T crashed with 'unexpected ValueError'
    two_versions(pv)
    git("tag", "v1", "HEAD~1")
    git("tag", "tree", "HEAD^{tree}")
    git("tag", "-a", "-m", "a blob", "blob", "HEAD:f.txt.pv")
    pv.ok("gc", "-T", "-f")
    assert {A1, F1} <= objects()
    res = pv.ok("metrics", "show", "-T")
    assert "unknown revision" not in res.stderr


def test_uncommitted_pointers_and_pv_lock_are_kept(pv_repo: Path, pv: PvRunner) -> None:
    pv.ok("config", "core.autostage", "false")
    gen({"new.bin": "new\n", "model.pkl": "model\n"})
    pv.ok("add", "new.bin", "model.pkl")  # new.bin.pv is neither committed nor staged
    pv.ok("remove", "model.pkl.pv")  # the object stays in the cache, referenced only by pv.lock
    Path("pv.lock").write_text(
        "schema: '1'\nstages:\n  train:\n    cmd: python train.py\n"
        f"    outs:\n    - path: model.pkl\n      oid: blake3:{MODEL}\n      size: 6\n"
    )
    res = pv("gc", "-w", "-f")
    assert (res.exit_code, res.stdout) == (0, "Nothing to delete: every object in the cache is in use.\n"), res
    assert {obj("new\n"), MODEL} <= objects()


def test_data_of_a_pointer_git_came_to_ignore_is_kept(pv_repo: Path, pv: PvRunner) -> None:
    """A pointer written before an ignore rule matched it is invisible to Git's listing; gc must
    still keep its data (an ignored file that is no pointer protects nothing and is no error)."""
    pv.ok("config", "core.autostage", "false")
    gen({"logs": {"l.txt": "only copy\n"}})
    pv.ok("add", "logs/l.txt")
    (pv_repo / ".git/info/exclude").write_text("logs/\nvenv/\n")
    gen({"venv": {"odd.pv": "not a pointer: ["}})
    obj = pv_repo / ".pv/cache" / hash_bytes(b"only copy\n").relpath()
    pv.ok("gc", "-w", "-f")
    assert obj.is_file() and obj.read_bytes() == b"only copy\n"


def test_unreadable_workspace_lock_stops_gc(pv_repo: Path, pv: PvRunner) -> None:
    two_versions(pv)
    before = objects()
    Path("pv.lock").write_text("stages: [\n")
    res = pv("gc", "-w", "-f")
    assert res.exit_code == 1
    assert res.stderr.startswith("ERROR: pv.lock")
    assert objects() == before


def test_leftover_temp_files_are_cleaned(pv_repo: Path, pv: PvRunner) -> None:
    gen({"x": "x\n"})
    pv.ok("add", "x")
    shard = CACHE / obj("x\n")[:2]
    old, young = shard / ".incoming.abc.pvtmp", shard / ".incoming.def.pvtmp"
    old.write_text("partial")
    young.write_text("partial")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    res = pv("gc", "-w", "--dry")
    assert "1 leftover temp file(s)" in res.stdout
    pv.ok("gc", "-w", "-f")
    assert not old.exists()
    assert young.exists()  # may belong to a transfer running now


def test_a_staging_shard_left_by_a_killed_add_is_cleaned(pv_repo: Path, pv: PvRunner) -> None:
    """``ObjectDB.bulk_writes`` builds missing shards under temp names; kill -9 leaves one."""
    gen({"x": "x\n"})
    pv.ok("add", "x")
    staging = CACHE / ".ab.0123456789ab.pvtmp"
    staging.mkdir()
    (staging / ("c" * 62)).write_text("half an object")
    os.utime(staging, (time.time() - 3600, time.time() - 3600))
    assert "1 leftover temp file(s)" in pv("gc", "-w", "--dry").stdout
    pv.ok("gc", "-w", "-f")
    assert not staging.exists() and (CACHE / obj("x\n")[:2]).is_dir()
    assert pv.ok("fsck").stdout.startswith("Checked 1 ")


def test_objects_that_came_into_use_after_planning_are_spared(pv_repo: Path, pv: PvRunner) -> None:
    from pipever.commands.data import gc as gc_op
    from pipever.repo import Repo

    two_versions(pv)
    with Repo() as repo:
        plan = gc_op.plan_gc(repo, gc_op.Scope())
    assert any(d.ref.oid.hex == F1 for d in plan.remove)
    gen({"again.txt": "f1\n"})  # someone adds the old content again before the user answers
    pv.ok("add", "again.txt")
    with Repo() as repo:
        res = gc_op.apply_gc(repo, plan)
    assert [r.oid.hex for r in res.spared] == [F1]
    assert F1 in objects()
    assert Path("again.txt").read_text() == "f1\n"


def test_symlinked_workspace_files_keep_their_objects(pv_repo: Path, pv: PvRunner) -> None:
    pv.ok("config", "cache.type", "symlink")
    git_commit("symlink cache")
    two_versions(pv)
    assert os.path.islink("f.txt")
    git("checkout", "-q", "HEAD~1", "--", "f.txt.pv", "data.pv")  # pointers back, data not checked out
    pv.ok("gc", "-w", "-f")
    assert Path("f.txt").read_text() == "f2\n"  # the link still resolves
    assert Path("data/a").read_text() == "a2\n"


def test_corrupt_kept_manifest_stops_gc(pv_repo: Path, pv: PvRunner) -> None:
    two_versions(pv)
    dir_oid = [ln for ln in Path("data.pv").read_text().splitlines() if "oid:" in ln][0].split()[-1][7:]
    manifest = CACHE / dir_oid[:2] / (dir_oid[2:] + ".dir")
    os.chmod(manifest, 0o644)
    manifest.write_text("[]")
    before = objects()
    res = pv("gc", "-w", "-f")
    assert res.exit_code == 1
    assert res.stderr == (
        f"ERROR: cannot tell which files 'data' needs: its manifest blake3:{dir_oid} is unreadable "
        "(its content does not match its hash)"
        " — run 'pv fsck --repair' first; nothing was deleted\n"
    )
    assert objects() == before


def test_cloud_needs_a_remote(pv_repo: Path, pv: PvRunner) -> None:
    two_versions(pv)
    before = objects()
    res = pv("gc", "-w", "--cloud", "-f")
    assert res.exit_code == 1
    assert res.stderr == "ERROR: no remote given and no default remote set — run 'pv remote add -d NAME URL' or pass -r NAME\n"
    assert objects() == before  # the remote is planned before anything is deleted


def test_cloud_deletes_unused_remote_objects(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    store = tmp_path / "store"
    pv.ok("remote", "add", "-d", "store", str(store))
    pv.ok("remote", "modify", "store", "layout", "loose")  # one file per object (packs: test_packs.py)
    gen({"data": {"a": "a1\n", "same": "same\n"}, "f.txt": "f1\n"})
    pv.ok("add", "data", "f.txt")
    git_commit("v1")
    pv.ok("push")
    gen({"data": {"a": "a2\n"}, "f.txt": "f2\n"})
    pv.ok("add", "data", "f.txt")
    git_commit("v2")
    pv.ok("push")

    def remote_objects() -> set[str]:
        return {f"{p.parent.name}{p.name}" for p in (store / "blake3").glob("*/*")}

    assert {A1, F1} <= remote_objects()
    res = pv("gc", "-w", "--cloud", "--dry")
    assert f"store: blake3:{F1}" in res.stdout.splitlines()
    assert "3 object(s) to delete from remote 'store'; 4 in use stay." in res.stdout.splitlines()
    res = pv("gc", "-w", "--cloud", "-f")
    assert res.exit_code == 0, res
    assert res.stdout.splitlines()[-1] == "Removed 3 object(s) from remote 'store'."
    assert not {A1, F1} & remote_objects()
    assert {A2, SAME, F2} <= remote_objects()
    assert not {A1, F1} & objects()


def test_remote_needs_cloud(pv_repo: Path, pv: PvRunner) -> None:
    res = pv("gc", "-w", "-r", "origin")
    assert res.exit_code == 2
    assert "-r/--remote needs --cloud" in res.stderr


def test_no_answer_at_the_prompt_is_no_not_an_interrupt(pv_repo: Path, pv: PvRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    two_versions(pv)
    before = objects()
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # `pv gc -w < /dev/null`, a script without -f
    res = pv("gc", "-w")
    assert res.exit_code == 1, res
    assert res.stderr == "ERROR: nothing was deleted — rerun and answer 'y', or use -f\n"
    assert objects() == before


def test_quiet_is_global_as_the_spec_says(pv_repo: Path, pv: PvRunner) -> None:
    """``-q`` works after the command too, as in DVC, also for commands without a -q of their own."""
    two_versions(pv)
    res = pv("gc", "-w", "-f", "-q")
    assert (res.exit_code, res.stdout, res.stderr) == (0, "", "")
    gen({"f.txt": "f3\n"})
    res = pv("commit", "f.txt", "--quiet")
    assert (res.exit_code, res.stdout) == (0, "")


@pytest.mark.parametrize("flag", ["-a", "-T", "-A"])
@pytest.mark.parametrize("broken", ["pointer", "lock"])
def test_a_revision_that_cannot_be_read_fully_stops_gc(pv_repo: Path, pv: PvRunner, flag: str, broken: str) -> None:
    """A branch whose pointer (or pv.lock) fails strict parsing names objects gc cannot see: it
    must not delete them silently (issue 16, case 6)."""
    git("checkout", "-qb", "feature")
    gen({"keep.txt": "branch only\n"})
    pv.ok("add", "keep.txt")
    if broken == "pointer":  # a key this pv does not know (a newer pv, a typo)
        Path("keep.txt.pv").write_text(Path("keep.txt.pv").read_text() + "extra_key: 1\n")
        where = "keep.txt.pv"
    else:
        oid = hash_bytes(b"branch only\n")
        Path("pv.lock").write_text("schema: '1'\nstages:\n  s:\n    cmd: x\n    outs:\n"
                                   f"    - path: keep.txt\n      oid: {oid}\n      size: 12\n    bogus: 1\n")
        os.unlink("keep.txt.pv")
        where = "pv.lock"
    git_commit("feature")
    if flag == "-T":
        git("tag", "v1")
    git("checkout", "-q", "main")
    before = objects()
    assert obj("branch only\n") in before
    res = pv("gc", flag, "-f")
    assert res.exit_code == 1, res
    sha = git("rev-parse", "feature").strip()
    assert res.stderr.startswith(f"ERROR: cannot read '{where}' at revision {sha[:8]} ("), res
    assert "--skip-unreadable" in res.stderr and "nothing was deleted" in res.stderr
    assert objects() == before
    # the user may accept the risk
    res = pv("gc", flag, "-f", "--skip-unreadable")
    assert res.exit_code == 0, res
    assert f"WARNING: skipped '{where}' at revision {sha[:8]} (" in res.stderr, res
    assert obj("branch only\n") not in objects()


def three_versions(pv: PvRunner) -> list[str]:
    """f.txt in versions f1, f2, f3 (one commit each, a day apart); their shas."""
    shas = []
    for day, text in enumerate(("f1\n", "f2\n", "f3\n"), start=1):
        if Path("f.txt").exists():
            pv.ok("unprotect", "f.txt")
        gen({"f.txt": text})
        pv.ok("add", "f.txt")
        git("add", "-A")
        stamp = f"2024-01-0{day}T12:00:00"
        env = {**os.environ, "GIT_COMMITTER_DATE": stamp, "GIT_AUTHOR_DATE": stamp}
        import subprocess

        subprocess.run(["git", "commit", "-qm", text.strip()], check=True, env=env)
        shas.append(git("rev-parse", "HEAD").strip())
    return shas


def test_rev_and_num_keep_those_commits(pv_repo: Path, pv: PvRunner) -> None:
    shas = three_versions(pv)
    f1, f2, f3 = obj("f1\n"), obj("f2\n"), obj("f3\n")
    pv.ok("gc", "--rev", shas[1], "-f")  # the workspace (f3) and that commit (f2)
    assert {f2, f3} <= objects() and f1 not in objects()
    three = three_versions(pv)  # f1 back in the cache
    assert obj("f1\n") in objects()
    pv.ok("gc", "-w", "--rev", "HEAD~1", "-n", "2", "-f")  # HEAD~1 and HEAD~2 of the new history
    assert {f1, f2, f3} <= objects()
    pv.ok("gc", "--rev", three[2], "-f")
    assert objects() >= {f3} and f1 not in objects() and f2 not in objects()
    res = pv("gc", "--rev", "nope", "-f")
    assert res.exit_code == 1 and res.stderr.startswith("ERROR: ")


def test_date_keeps_commits_made_on_or_after_that_day(pv_repo: Path, pv: PvRunner) -> None:
    three_versions(pv)
    f1, f2, f3 = obj("f1\n"), obj("f2\n"), obj("f3\n")
    pv.ok("gc", "--date", "2024-01-02", "--dry")
    assert {f1, f2, f3} <= objects()
    pv.ok("gc", "--date", "2024-01-02", "-f")
    assert {f2, f3} <= objects() and f1 not in objects()
    res = pv("gc", "--date", "01/02/2024", "-f")
    assert (res.exit_code, res.stderr) == (1, "ERROR: invalid date '01/02/2024' — write it as YYYY-MM-DD, e.g. 2024-01-31\n")


def test_not_in_remote_keeps_the_only_copies(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    two_versions(pv)  # v1: a1, same, f1 (and a manifest); v2: a2, f2 (and a manifest)
    pv.ok("remote", "add", "-d", "store", str(tmp_path / "store"))
    pv.ok("push", "-A")
    gen({"extra.txt": "only here\n"})
    pv.ok("add", "extra.txt")
    git_commit("extra")
    pv.ok("unprotect", "extra.txt")
    gen({"extra.txt": "changed\n"})
    pv.ok("add", "extra.txt")  # 'only here' is now in no pointer, and on no remote
    res = pv.ok("gc", "-w", "--not-in-remote", "-f")
    assert res.stdout.startswith("Removed 3 object(s) (")  # a1, f1 and v1's manifest: all on the remote
    assert obj("only here\n") in objects() and A1 not in objects() and F1 not in objects()
    res = pv("gc", "-w", "--not-in-remote", "-r", "nope", "-f")
    assert res.exit_code == 1 and "nope" in res.stderr
    pv.ok("gc", "-w", "-f")  # without it, the unpushed old version goes too
    assert obj("only here\n") not in objects()
