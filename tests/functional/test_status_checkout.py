from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

from pipever.objects.hashing import hash_bytes
from tests.helpers import PvRunner, gen, git, git_commit


def test_status_clean_then_modified_deleted_not_in_cache(pv_repo: Path, pv: PvRunner) -> None:
    gen({"a.txt": "a", "dir": {"x": "x", "y": "y"}, "c.txt": "c"})
    pv.ok("add", "a.txt", "dir", "c.txt")
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"
    assert pv("status", "-q").exit_code == 0
    gen({"a.txt": "changed", "dir": {"x": "changed"}})
    (pv_repo / "c.txt").unlink()
    res = pv.ok("status", "--json")
    assert json.loads(res.stdout) == {
        "a.txt.pv": [{"changed outs": {"a.txt": "modified"}}],
        "c.txt.pv": [{"changed outs": {"c.txt": "deleted"}}],
        "dir.pv": [{"changed outs": {"dir": "modified"}}],
    }
    text = pv.ok("status").stdout
    assert "a.txt.pv:\n\tchanged outs:\n\t\tmodified:           a.txt\n" in text
    res = pv("status", "-q")
    assert res.exit_code == 3 and res.stdout == ""


def test_status_reports_not_in_cache(pv_repo: Path, pv: PvRunner) -> None:
    gen({"a.txt": "a"})
    pv.ok("add", "a.txt")
    shutil.rmtree(pv_repo / ".pv/cache")
    assert json.loads(pv.ok("status", "--json").stdout) == {"a.txt.pv": [{"changed outs": {"a.txt": "not in cache"}}]}


def test_status_targets_limit_the_report(pv_repo: Path, pv: PvRunner) -> None:
    gen({"a.txt": "a", "b.txt": "b"})
    pv.ok("add", "a.txt", "b.txt")
    gen({"a.txt": "A", "b.txt": "B"})
    assert list(json.loads(pv.ok("status", "--json", "b.txt").stdout)) == ["b.txt.pv"]


def test_checkout_restores_deleted_data(pv_repo: Path, pv: PvRunner) -> None:
    gen({"dir": {"a": "1", "sub": {"b": "2"}}, "f": "3"})
    pv.ok("add", "dir", "f")
    shutil.rmtree(pv_repo / "dir")
    (pv_repo / "f").unlink()
    res = pv.ok("checkout")
    assert res.stdout == "Checkout: 3 added\n"
    assert (pv_repo / "dir/sub/b").read_text() == "2" and (pv_repo / "f").read_text() == "3"
    assert os.stat(pv_repo / "f").st_mode & stat.S_IWUSR
    assert pv.ok("checkout").stdout == "Workspace already matches the pointers.\n"


def test_checkout_refuses_to_overwrite_unsaved_changes(pv_repo: Path, pv: PvRunner) -> None:
    gen({"f": "v1", "g": "g1"})
    pv.ok("add", "f", "g")
    gen({"f": "unsaved work"})
    (pv_repo / "g").unlink()
    res = pv("checkout")
    assert res.exit_code == 1
    assert res.stderr == (
        "ERROR: 1 file(s) changed in the workspace are not in the cache and would be lost: 'f' — "
        "'pv add'/'pv commit' them to keep them, or rerun with --force to discard the changes\n"
    )
    assert (pv_repo / "f").read_text() == "unsaved work"
    assert not (pv_repo / "g").exists()  # all or nothing, like git checkout
    pv.ok("checkout", "g")
    assert (pv_repo / "g").read_text() == "g1"
    pv.ok("checkout", "--force")
    assert (pv_repo / "f").read_text() == "v1"


def test_checkout_switches_data_with_git_revisions(pv_repo: Path, pv: PvRunner) -> None:
    gen({"data": {"keep.txt": "k", "gone.txt": "old", "mod.txt": "v1"}})
    pv.ok("add", "data")
    git_commit("v1")
    (pv_repo / "data/gone.txt").unlink()
    gen({"data": {"mod.txt": "v2", "new.txt": "n"}})
    pv.ok("add", "data")
    git_commit("v2")
    git("checkout", "-q", "HEAD~1")
    res = pv.ok("checkout")
    assert sorted(os.listdir(pv_repo / "data")) == ["gone.txt", "keep.txt", "mod.txt"]
    assert (pv_repo / "data/mod.txt").read_text() == "v1"
    assert "1 added" in res.stdout and "1 modified" in res.stdout and "1 deleted" in res.stdout
    git("checkout", "-q", "main")
    pv.ok("checkout")
    assert sorted(os.listdir(pv_repo / "data")) == ["keep.txt", "mod.txt", "new.txt"]
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"


def test_checkout_keeps_unsaved_file_added_to_tracked_dir(pv_repo: Path, pv: PvRunner) -> None:
    gen({"data": {"a": "a"}})
    pv.ok("add", "data")
    gen({"data": {"mine.txt": "precious"}})
    res = pv("checkout")
    assert res.exit_code == 1 and "'data/mine.txt'" in res.stderr
    assert (pv_repo / "data/mine.txt").read_text() == "precious"


def test_checkout_reports_missing_objects(pv_repo: Path, pv: PvRunner) -> None:
    gen({"f": "x"})
    pv.ok("add", "f")
    (pv_repo / "f").unlink()
    shutil.rmtree(pv_repo / ".pv/cache")
    res = pv("checkout")
    assert res.exit_code == 1
    assert "ERROR: checkout incomplete; not in the cache: f — run 'pv pull'" in res.stderr


def test_checkout_never_links_a_corrupt_object(pv_repo: Path, pv: PvRunner) -> None:
    gen({"f": "good"})
    pv.ok("add", "f")
    (pv_repo / "f").unlink()
    obj = pv_repo / ".pv/cache" / hash_bytes(b"good").relpath()
    os.chmod(obj, 0o644)
    obj.write_bytes(b"evil")
    res = pv("checkout")
    assert res.exit_code == 1 and "corrupt in the cache (not linked): f" in res.stderr
    assert not (pv_repo / "f").exists()


def test_checkout_relink_with_symlinks(pv_repo: Path, pv: PvRunner) -> None:
    gen({"dir": {"a": "a"}})
    pv.ok("add", "dir")
    pv.ok("config", "cache.type", "symlink")
    pv.ok("checkout", "--relink")
    assert os.path.islink(pv_repo / "dir/a")
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"


def test_checkout_does_not_write_through_symlinked_parent(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    gen({"sub": {"f": "x"}})
    pv.ok("add", "sub/f")
    git_commit("f")
    shutil.rmtree(pv_repo / "sub/f", ignore_errors=True)
    os.unlink(pv_repo / "sub/f") if (pv_repo / "sub/f").exists() else None
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.move(str(pv_repo / "sub/f.pv"), str(pv_repo / "f.pv.bak"))
    shutil.rmtree(pv_repo / "sub")
    os.symlink(elsewhere, pv_repo / "sub")
    shutil.move(str(pv_repo / "f.pv.bak"), str(elsewhere / "f.pv"))
    res = pv("checkout")
    assert res.exit_code == 1 and "goes through the symlink 'sub'" in res.stderr
    assert not (elsewhere / "f").exists()


def test_commit_records_modified_data(pv_repo: Path, pv: PvRunner) -> None:
    gen({"f": "v1", "d": {"a": "1"}})
    pv.ok("add", "f", "d")
    gen({"f": "v2", "d": {"b": "2"}})
    res = pv.ok("commit")
    assert "Committed d" in res.stdout and "Committed f" in res.stdout
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"
    assert pv.ok("commit").stdout == "Nothing to commit.\n"


def test_commit_with_a_deleted_target_writes_no_pointer(pv_repo: Path, pv: PvRunner) -> None:
    """A failing commit records nothing: 'd' was recorded (unstaged) although commit exited 1."""
    gen({"d": {"a": "1"}, "f": "v1", "g": "g1"})
    pv.ok("add", "d", "f", "g")
    git_commit("v1")
    gen({"d": {"a": "2"}})
    (pv_repo / "f").unlink()
    (pv_repo / "g").unlink()
    res = pv("commit")
    assert res.exit_code == 1
    assert res.stderr == "ERROR: 'f', 'g' do not exist — 'pv checkout' them, or 'pv remove' their pointers\n"
    assert git("status", "--porcelain") == ""
    assert json.loads(pv.ok("status", "--json").stdout)["d.pv"] == [{"changed outs": {"d": "modified"}}]


def test_executable_bit_survives_hardlink_cache_type(pv_repo: Path, pv: PvRunner) -> None:
    pv.ok("config", "cache.type", "hardlink")
    gen({"tools": {"run.sh": "#!/bin/sh\necho hi\n", "data.txt": "d"}})
    os.chmod(pv_repo / "tools/run.sh", 0o755)
    pv.ok("add", "tools")
    assert os.stat(pv_repo / "tools/data.txt").st_nlink == 2
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"
    shutil.rmtree(pv_repo / "tools")
    pv.ok("checkout")
    assert os.stat(pv_repo / "tools/run.sh").st_mode & 0o111
    assert os.stat(pv_repo / "tools/data.txt").st_nlink == 2
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"


def test_global_quiet_status_exits_3_when_dirty(pv_repo: Path, pv: PvRunner) -> None:
    gen({"f": "1"})
    pv.ok("add", "f")
    gen({"f": "2"})
    res = pv("-q", "status")
    assert res.exit_code == 3 and res.stdout == ""


def test_add_of_several_targets_writes_nothing_when_one_is_hostile(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("s")
    gen({"a.txt": "a", "dir": {"x": "x"}})
    os.symlink(tmp_path / "secret", pv_repo / "dir/evil")
    res = pv("add", "a.txt", "dir")
    assert res.exit_code == 1 and "outside the work tree" in res.stderr
    assert not (pv_repo / "a.txt.pv").exists() and not (pv_repo / "dir.pv").exists()
    assert not any(p.is_file() for p in (pv_repo / ".pv/cache").rglob("*"))


def test_status_text_for_a_stage_with_changed_params(pv_repo: Path, pv: PvRunner) -> None:
    gen({"params.yaml": "train:\n  lr: 1\n"})
    pv.ok("stage", "add", "-n", "t", "-p", "train.lr", "-o", "out.txt", "echo hi > out.txt")
    pv.ok("repro")
    gen({"params.yaml": "train:\n  lr: 2\n"})
    assert pv.ok("status").stdout == "t:\n\tchanged params:\n\t\tmodified:           params.yaml:train.lr\n"
    assert pv("status", "-q").exit_code == 3


def test_add_records_the_directory_fingerprint_and_status_still_sees_edits(pv_repo: Path, pv: PvRunner) -> None:
    """After ``add`` the first status knows the directory from its fingerprint (no per-file
    lookups); a file edited afterwards still changes the fingerprint."""
    from pipever.objects.build import fingerprint
    from pipever.repo import Repo

    gen({"data": {"a.txt": "a", "sub": {"b.txt": "b"}}})
    past = 1_600_000_000
    for p in (pv_repo / "data").rglob("*.txt"):
        os.utime(p, (past, past))  # not racy: the fingerprint can vouch for them
    pv.ok("add", "data")
    repo = Repo(pv_repo)
    try:
        files = repo.workspace.walk("data", repo.ignore)
        fp = fingerprint(files)
        assert fp is not None
        assert repo.state.get_dir("data", fp) is not None
    finally:
        repo.close()
    assert "up to date" in pv.ok("status").stdout
    (pv_repo / "data" / "sub" / "b.txt").write_text("B")
    os.utime(pv_repo / "data" / "sub" / "b.txt", (past + 5, past + 5))
    res = pv("status")
    assert "modified" in res.stdout and "data" in res.stdout, res


def test_checkout_recreates_a_tracked_empty_directory(pv_repo: Path, pv: PvRunner) -> None:
    (pv_repo / "empty").mkdir()
    pv.ok("add", "empty")
    (pv_repo / "empty").rmdir()
    assert json.loads(pv.ok("status", "--json").stdout) == {"empty.pv": [{"changed outs": {"empty": "deleted"}}]}
    assert pv.ok("checkout").stdout == "Checkout: 1 added\n"
    assert (pv_repo / "empty").is_dir()
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"


def test_checkout_to_an_empty_version_keeps_the_directory(pv_repo: Path, pv: PvRunner) -> None:
    gen({"d": {"a": "1"}})
    pv.ok("add", "d")
    git_commit("d with a file")
    (pv_repo / "d/a").unlink()
    pv.ok("add", "d")
    git_commit("d empty")
    gen({"d": {"a": "1"}})
    pv.ok("checkout")
    assert (pv_repo / "d").is_dir() and list((pv_repo / "d").iterdir()) == []
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"
