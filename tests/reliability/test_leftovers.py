"""What a pv process killed with -9 leaves behind (temp files next to the files it was writing)
is never taken for data, and the next command that takes the repo lock removes it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import PvRunner, gen, git_commit

TMP = ".a.csv.0123456789ab.pvtmp"


def killed_holder(root: Path) -> None:
    """The lock's info file stays behind when its holder is killed (a clean exit deletes it)."""
    (root / ".pv/tmp/lock.info").write_text(json.dumps({"pid": 999999, "command": "pv checkout"}))


def test_temp_file_in_a_tracked_directory_is_not_data(pv_repo: Path, pv: PvRunner) -> None:
    gen({"d": {"a.csv": "a\n", "b.csv": "b\n"}})
    pv.ok("add", "d")
    git_commit("track d")
    gen({"d": {TMP: "half a cop"}})
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"
    pv.ok("add", "d")
    assert "nfiles: 2" in Path("d.pv").read_text()


def test_checkout_after_a_kill_is_not_blocked_by_its_temp_files(pv_repo: Path, pv: PvRunner) -> None:
    gen({"d": {"a.csv": "a\n", "b.csv": "b\n"}, "f": "f\n"})
    pv.ok("add", "d", "f")
    git_commit("track d")
    Path("d/a.csv").unlink()
    gen({"d": {TMP: "half a cop"}, ".f.0123456789ab.pvtmp": "", ".f.pv.0123456789ab.pvtmp": "outs:\n- pa"})
    killed_holder(pv_repo)
    pv.ok("checkout")
    assert Path("d/a.csv").read_text() == "a\n"
    assert sorted(p.name for p in pv_repo.rglob("*.pvtmp")) == []


def test_temp_files_are_kept_when_the_previous_holder_exited_cleanly(pv_repo: Path, pv: PvRunner) -> None:
    gen({"f": "f\n", "notes": {".x.0123456789ab.pvtmp": "someone else's"}})
    pv.ok("add", "f")
    assert Path("notes/.x.0123456789ab.pvtmp").exists()


def test_user_files_that_merely_end_in_pvtmp_are_data(pv_repo: Path, pv: PvRunner) -> None:
    gen({"d": {"x.pvtmp": "mine\n", ".y.pvtmp": "mine too\n"}})
    killed_holder(pv_repo)
    pv.ok("add", "d")
    assert "nfiles: 2" in Path("d.pv").read_text()
    assert Path("d/x.pvtmp").exists() and Path("d/.y.pvtmp").exists()
