"""The installed hooks, fired by real git: post-checkout, pre-commit and pre-push."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipever.objects.hashing import hash_bytes
from tests.helpers import PvRunner, gen, git, git_run


@pytest.fixture
def hooked(pv_repo: Path, pv: PvRunner) -> Path:
    """A pv repo with `pv install` done and data.csv + images/ tracked on main."""
    pv.ok("install")
    gen({"data.csv": "main\n", "images": {"a.png": "A", "b.png": "B"}})
    pv.ok("add", "data.csv", "images")
    git("add", ".gitattributes")
    git("commit", "-qm", "data")
    return pv_repo


def _store(root: Path, pv: PvRunner) -> Path:
    store = root.parent / "store"
    pv.ok("config", "--local", "remote.store.url", str(store))
    pv.ok("config", "--local", "core.remote", "store")
    pv.ok("config", "--local", "remote.store.layout", "loose")  # one file per object (packs: test_packs.py)
    return store


def _bare(root: Path) -> Path:
    bare = root.parent / "origin.git"
    git("init", "-q", "--bare", str(bare))
    git("remote", "add", "origin", str(bare))
    return bare


def _objects(store: Path) -> set[str]:
    return {p.relative_to(store).as_posix() for p in store.rglob("*") if p.is_file()}


def _obj(text: str) -> str:
    return hash_bytes(text.encode()).relpath()


def _uncache(root: Path, text: str) -> None:
    (root / ".pv/cache" / _obj(text)).unlink()


# -- post-checkout -------------------------------------------------------------------------------
def test_branch_switch_checks_out_the_data_of_the_new_branch(hooked: Path, pv: PvRunner) -> None:
    git("checkout", "-q", "-b", "feat")
    gen({"data.csv": "feat\n", "images": {"c.png": "C"}})
    pv.ok("add", "data.csv", "images")
    git("commit", "-qm", "feat data")

    switch = git_run("checkout", "main")
    assert switch.returncode == 0, switch.stderr
    assert "pv: checked out data of 2 file(s) for the new HEAD" in switch.stdout + switch.stderr
    assert (hooked / "data.csv").read_text() == "main\n"
    assert sorted(p.name for p in (hooked / "images").iterdir()) == ["a.png", "b.png"]

    assert git_run("switch", "feat").returncode == 0
    assert (hooked / "data.csv").read_text() == "feat\n"
    assert (hooked / "images/c.png").read_text() == "C"
    assert pv.ok("status").stdout.strip() == "Data and pipelines are up to date."


def test_file_checkout_leaves_data_alone(hooked: Path, pv: PvRunner) -> None:
    gen({"data.csv": "v2\n"})
    pv.ok("add", "data.csv")
    git("commit", "-qm", "v2")
    res = git_run("checkout", "HEAD~1", "--", "data.csv.pv")  # git passes flag 0
    assert res.returncode == 0 and "pv:" not in res.stderr
    assert (hooked / "data.csv").read_text() == "v2\n"


def test_switch_keeps_local_changes_to_data_whose_pointer_did_not_change(hooked: Path, pv: PvRunner) -> None:
    git("checkout", "-q", "-b", "feat")
    gen({"images": {"a.png": "A2"}})
    pv.ok("add", "images")
    git("commit", "-qm", "feat images")
    gen({"data.csv": "work in progress\n"})  # not added: only in the workspace
    res = git_run("checkout", "main")
    assert res.returncode == 0, res.stderr
    assert (hooked / "images/a.png").read_text() == "A"
    assert (hooked / "data.csv").read_text() == "work in progress\n"


def test_switch_to_a_branch_whose_data_is_not_cached_warns_to_pull(hooked: Path, pv: PvRunner) -> None:
    git("checkout", "-q", "-b", "feat")
    gen({"data.csv": "feat\n"})
    pv.ok("add", "data.csv")
    git("commit", "-qm", "feat")
    git("checkout", "-q", "main")
    _uncache(hooked, "feat\n")
    res = git_run("checkout", "feat")
    assert res.returncode == 0
    assert "WARNING: not in the cache: data.csv — run 'pv pull' to get them" in res.stderr


def test_hooks_do_nothing_in_a_git_repo_without_pv(hooked: Path) -> None:
    shutil.rmtree(hooked / ".pv")
    assert git_run("commit", "-qam", "drop pv").returncode == 0
    assert git_run("checkout", "-b", "other").returncode == 0
    res = git_run("checkout", "main")
    assert res.returncode == 0 and "pv" not in res.stderr


# -- pre-commit ----------------------------------------------------------------------------------
def test_commit_is_refused_while_changed_data_is_not_recorded(hooked: Path, pv: PvRunner) -> None:
    head = git("rev-parse", "HEAD")
    gen({"data.csv": "edited\n"})
    gen({"code.py": "print()\n"})
    git("add", "code.py")
    res = git_run("commit", "-m", "code")
    assert res.returncode == 1
    assert ("ERROR: 'data.csv' changed but the change is not recorded in 'data.csv.pv' — run 'pv commit "
            "data.csv.pv' (or 'pv checkout data.csv.pv' to restore the recorded version)") in res.stderr
    assert git("rev-parse", "HEAD") == head

    pv.ok("commit", "data.csv.pv")
    res = git_run("commit", "-m", "code and data")
    assert res.returncode == 0, res.stderr
    assert git("show", "--name-only", "--format=", "HEAD").split() == ["code.py", "data.csv.pv"]


def test_commit_with_modified_directory_names_the_directory(hooked: Path) -> None:
    gen({"images": {"new.png": "N"}})
    res = git_run("commit", "--allow-empty", "-m", "x")
    assert res.returncode == 1
    assert "ERROR: 'images' changed but the change is not recorded in 'images.pv'" in res.stderr


def test_warn_only_config_lets_the_commit_through(hooked: Path, pv: PvRunner) -> None:
    pv.ok("config", "hooks.pre_commit_warn_only", "true")
    gen({"data.csv": "edited\n"})
    res = git_run("commit", "-qam", "config")
    assert res.returncode == 0
    assert "WARNING: 'data.csv' changed but the change is not recorded in 'data.csv.pv'" in res.stderr
    assert "ERROR" not in res.stderr


def test_missing_data_only_warns(hooked: Path) -> None:
    (hooked / "data.csv").unlink()
    res = git_run("commit", "--allow-empty", "-m", "x")
    assert res.returncode == 0
    assert "WARNING: 'data.csv' is missing from the workspace — run 'pv checkout data.csv.pv'" in res.stderr


def test_pointer_left_out_of_the_commit_is_warned_about(hooked: Path, pv: PvRunner) -> None:
    pv.ok("config", "core.autostage", "false")
    git("commit", "-qam", "no autostage")
    gen({"new.csv": "n"})
    pv.ok("add", "new.csv")
    res = git_run("commit", "--allow-empty", "-m", "x")
    assert res.returncode == 0
    assert "WARNING: 'new.csv.pv' is not tracked by Git — run 'git add new.csv.pv' to commit it" in res.stderr


# -- pre-push ------------------------------------------------------------------------------------
def test_git_push_pushes_the_data_of_every_pushed_commit(hooked: Path, pv: PvRunner) -> None:
    store = _store(hooked, pv)
    _bare(hooked)
    gen({"data.csv": "v2\n"})
    pv.ok("add", "data.csv")
    git("commit", "-qm", "v2")
    res = git_run("push", "-q", "origin", "main")
    assert res.returncode == 0, res.stderr
    assert "pv: 5 files pushed to store" in res.stdout + res.stderr
    # main, v2, A, B and the manifest: v1 of data.csv too, though only an older pushed commit needs it
    assert {_obj("main\n"), _obj("v2\n"), _obj("A"), _obj("B")} <= _objects(store)

    again = git_run("push", "origin", "main")
    assert again.returncode == 0 and "pv:" not in again.stderr


def test_push_of_a_new_branch_sends_only_what_its_new_commits_need(hooked: Path, pv: PvRunner) -> None:
    store = _store(hooked, pv)
    _bare(hooked)
    gen({"data.csv": "v2\n"})
    pv.ok("add", "data.csv")
    git("commit", "-qm", "v2")
    assert git_run("push", "-q", "origin", "main").returncode == 0
    (store / _obj("main\n")).unlink()  # needed only by a commit the remote already has

    git("checkout", "-q", "-b", "feat")
    gen({"images": {"c.png": "C"}})
    pv.ok("add", "images")
    git("commit", "-qm", "feat")
    res = git_run("push", "-q", "origin", "feat")
    assert res.returncode == 0, res.stderr
    assert _obj("C") in _objects(store)
    assert _obj("main\n") not in _objects(store)


def test_push_is_refused_when_no_pv_remote_is_set(hooked: Path) -> None:
    bare = _bare(hooked)
    res = git_run("push", "origin", "main")
    assert res.returncode != 0
    assert "ERROR: the pushed commits have pv data to push, but no remote given and no default remote set" in res.stderr
    assert "'git push --no-verify'" in res.stderr
    assert git("--git-dir", str(bare), "for-each-ref") == ""


def test_push_is_refused_when_pushed_data_is_nowhere(hooked: Path, pv: PvRunner) -> None:
    _store(hooked, pv)
    _bare(hooked)
    _uncache(hooked, "main\n")
    res = git_run("push", "origin", "main")
    assert res.returncode != 0
    assert "ERROR: the pushed commits need data that is neither in the cache nor on the remote: data.csv" in res.stderr


def test_push_without_tracked_data_needs_no_remote(pv_repo: Path, pv: PvRunner) -> None:
    pv.ok("install")
    _bare(pv_repo)
    gen({"code.py": "x = 1\n"})
    git("add", "-A")
    git("commit", "-qm", "code")
    res = git_run("push", "origin", "main")
    assert res.returncode == 0, res.stderr


def test_deleting_a_remote_branch_pushes_nothing(hooked: Path, pv: PvRunner) -> None:
    store = _store(hooked, pv)
    _bare(hooked)
    git("branch", "old")
    assert git_run("push", "-q", "origin", "main", "old").returncode == 0
    shutil.rmtree(store)
    res = git_run("push", "origin", "--delete", "old")
    assert res.returncode == 0, res.stderr
    assert not store.exists()


def test_chained_pre_push_hook_gets_the_ref_lines_too(hooked: Path, pv: PvRunner) -> None:
    pv.ok("uninstall")
    legacy = hooked / ".git/hooks/pre-push"
    legacy.write_text("#!/bin/sh\ncat > pushed-refs.txt\n")
    legacy.chmod(0o755)
    pv.ok("install")
    store = _store(hooked, pv)
    _bare(hooked)
    res = git_run("push", "origin", "main")
    assert res.returncode == 0, res.stderr
    head = git("rev-parse", "HEAD").strip()
    assert (hooked / "pushed-refs.txt").read_text().split()[:3] == ["refs/heads/main", head, "refs/heads/main"]
    assert _obj("main\n") in _objects(store)


# -- pipelines -----------------------------------------------------------------------------------
@pytest.fixture
def pipeline(pv_repo: Path, pv: PvRunner) -> Path:
    """A pv repo with hooks and one stage 'copy' (raw.txt -> out.txt) run and committed."""
    pv.ok("install")
    gen({"raw.txt": "raw\n"})
    pv.ok("stage", "add", "-n", "copy", "-d", "raw.txt", "-o", "out.txt", "cp raw.txt out.txt")
    pv.ok("repro")
    git("add", "-A")
    assert git_run("commit", "-m", "pipeline").returncode == 0
    return pv_repo


def test_commit_with_a_stale_stage_is_refused_until_repro(pipeline: Path, pv: PvRunner) -> None:
    gen({"raw.txt": "raw v2\n"})
    git("add", "raw.txt")
    res = git_run("commit", "-m", "new raw")
    assert res.returncode == 1
    assert "ERROR: stage 'copy' is stale (changed deps 'raw.txt') — run 'pv repro copy'" in res.stderr
    pv.ok("repro")
    git("add", "pv.lock")
    res = git_run("commit", "-m", "new raw")
    assert res.returncode == 0, res.stderr


def test_commit_with_hand_edited_stage_outputs_says_pv_commit(pipeline: Path, pv: PvRunner) -> None:
    gen({"out.txt": "edited by hand\n"})
    res = git_run("commit", "--allow-empty", "-m", "x")
    assert res.returncode == 1
    assert ("ERROR: outputs 'out.txt' of stage 'copy' changed but are not recorded in pv.lock — run 'pv commit copy' "
            "to record them (or 'pv repro -f copy' to regenerate them)") in res.stderr


def test_branch_switch_checks_out_stage_outputs(pipeline: Path, pv: PvRunner) -> None:
    git("checkout", "-q", "-b", "feat")
    gen({"raw.txt": "feat raw\n"})
    pv.ok("repro")
    git("add", "-A")
    assert git_run("commit", "-m", "feat").returncode == 0
    res = git_run("checkout", "main")
    assert res.returncode == 0, res.stderr
    assert (pipeline / "out.txt").read_text() == "raw\n"
    git("checkout", "-q", "feat")
    assert (pipeline / "out.txt").read_text() == "feat raw\n"


def test_code_only_contributor_without_the_data_can_commit(pipeline: Path, pv: PvRunner, tmp_path: Path) -> None:
    """A fresh clone with no data pulled (pointer-tracked dep, stage out, chained stage): the
    pre-commit hook warns that the data is missing and lets a code change through."""
    gen({"big.csv": "big\n"})
    pv.ok("add", "big.csv")
    pv.ok("stage", "add", "-n", "sum", "-d", "big.csv", "-d", "out.txt", "-o", "sum.txt", "cat big.csv out.txt > sum.txt")
    pv.ok("repro")
    git("add", "-A")
    assert git_run("commit", "-m", "more").returncode == 0
    clone = tmp_path / "clone"
    git("clone", "-q", str(pipeline), str(clone))
    pv.ok("install", cwd=clone)
    gen({"train.py": "print('code only')\n"}, root=clone)
    git("add", "train.py", cwd=clone)
    res = git_run("commit", "-m", "code change", cwd=clone)
    assert res.returncode == 0, res.stderr
    assert "ERROR" not in res.stderr
    assert "WARNING: deps 'big.csv', 'out.txt' of stage 'sum' are missing from the workspace — run 'pv pull'" in res.stderr
    # a dep changed in the workspace still blocks the commit there
    gen({"raw.txt": "edited\n"}, root=clone)
    res = git_run("commit", "--allow-empty", "-m", "x", cwd=clone)
    assert res.returncode == 1
    assert "ERROR: stage 'copy' is stale (changed deps 'raw.txt')" in res.stderr
