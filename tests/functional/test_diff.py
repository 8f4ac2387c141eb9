from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from pipever.objects.hashing import hash_bytes
from tests.helpers import PvRunner, gen, git, git_commit


def oid(text: str) -> str:
    return str(hash_bytes(text.encode()))


def setup_v1(pv: PvRunner) -> None:
    gen({"data": {"a.csv": "a\n", "b.csv": "b\n"}, "model.bin": "m1\n"})
    pv.ok("add", "data", "model.bin")
    git_commit("v1")


def test_clean_workspace_has_no_diff(pv_repo: Path, pv: PvRunner) -> None:
    setup_v1(pv)
    res = pv("diff")
    assert (res.exit_code, res.stdout, res.stderr) == (0, "", "")
    res = pv("diff", "--json")
    assert json.loads(res.stdout) == {"added": [], "deleted": [], "modified": [], "renamed": []}
    assert pv("diff", "-q").exit_code == 0


def test_workspace_changes_down_to_files_in_directories(pv_repo: Path, pv: PvRunner) -> None:
    setup_v1(pv)
    gen({"data": {"a.csv": "a2\n", "c.csv": "c\n"}, "model.bin": "m2!\n"})
    os.unlink("data/b.csv")
    res = pv("diff")
    assert res.exit_code == 0, res
    assert res.stdout == (
        "Added:\n"
        "    data/c.csv  2 B\n"
        "Deleted:\n"
        "    data/b.csv  2 B\n"
        "Modified:\n"
        "    data/       4 B -> 5 B\n"
        "    data/a.csv  2 B -> 3 B\n"
        "    model.bin   3 B -> 4 B\n"
        "\n"
        "files summary: 1 added, 1 deleted, 0 renamed, 2 modified\n"
    )
    doc = json.loads(pv("diff", "--json").stdout)
    assert doc["added"] == [{"path": "data/c.csv", "oid": oid("c\n"), "size": 2}]
    assert doc["deleted"] == [{"path": "data/b.csv", "oid": oid("b\n"), "size": 2}]
    assert [m["path"] for m in doc["modified"]] == ["data/", "data/a.csv", "model.bin"]
    assert doc["modified"][2] == {"path": "model.bin", "oid": {"old": oid("m1\n"), "new": oid("m2!\n")}, "size": {"old": 3, "new": 4}}
    assert doc["renamed"] == []
    assert pv("diff", "-q").exit_code == 3


def test_markdown_table(pv_repo: Path, pv: PvRunner) -> None:
    setup_v1(pv)
    gen({"model.bin": "m2!\n"})
    os.unlink("data/b.csv")
    res = pv("diff", "--md")
    assert res.stdout == (
        "| Status | Path | Size |\n"
        "|---|---|---|\n"
        "| deleted | data/b.csv | 2 B |\n"
        "| modified | data/ | 4 B -> 2 B |\n"
        "| modified | model.bin | 3 B -> 4 B |\n"
    )


def test_newly_added_data_is_added(pv_repo: Path, pv: PvRunner) -> None:
    setup_v1(pv)
    gen({"new": {"x": "x\n"}})
    pv.ok("add", "new")
    doc = json.loads(pv("diff", "--json").stdout)
    assert doc["added"] == [
        {"path": "new/", "oid": doc["added"][0]["oid"], "size": 2},
        {"path": "new/x", "oid": oid("x\n"), "size": 2},
    ]


def test_missing_workspace_data_is_deleted(pv_repo: Path, pv: PvRunner) -> None:
    setup_v1(pv)
    os.unlink("model.bin")
    doc = json.loads(pv("diff", "--json").stdout)
    assert doc["deleted"] == [{"path": "model.bin", "oid": oid("m1\n"), "size": 3}]


def test_between_two_revisions_without_checking_out(pv_repo: Path, pv: PvRunner) -> None:
    setup_v1(pv)
    v1 = git("rev-parse", "HEAD").strip()
    gen({"data": {"a.csv": "A\n"}})
    pv.ok("add", "data")
    pv.ok("move", "model.bin", "models/model.bin")
    git_commit("v2")
    gen({"data": {"a.csv": "workspace only\n"}})
    head_before = git("rev-parse", "HEAD").strip()
    res = pv("diff", v1, "HEAD", "--json")
    assert res.exit_code == 0, res
    doc = json.loads(res.stdout)
    assert doc["renamed"] == [{"path": {"old": "model.bin", "new": "models/model.bin"}, "oid": oid("m1\n"), "size": 3}]
    assert [m["path"] for m in doc["modified"]] == ["data/", "data/a.csv"]
    assert doc["modified"][1]["oid"] == {"old": oid("a\n"), "new": oid("A\n")}
    assert doc["added"] == [] and doc["deleted"] == []
    # nothing was checked out
    assert git("rev-parse", "HEAD").strip() == head_before
    assert Path("data/a.csv").read_text() == "workspace only\n"
    # one revision: against the workspace
    doc = json.loads(pv("diff", v1, "--json").stdout)
    assert doc["modified"][1]["oid"] == {"old": oid("a\n"), "new": oid("workspace only\n")}
    res = pv("diff", "HEAD", "HEAD", "--json")
    assert json.loads(res.stdout) == {"added": [], "deleted": [], "modified": [], "renamed": []}


def test_renamed_in_human_output(pv_repo: Path, pv: PvRunner) -> None:
    setup_v1(pv)
    pv.ok("move", "model.bin", "m.bin")
    res = pv("diff")
    assert res.stdout == "Renamed:\n    model.bin -> m.bin  3 B\n\nfiles summary: 0 added, 0 deleted, 1 renamed, 0 modified\n"


def test_directory_without_manifest_in_cache_is_compared_whole(pv_repo: Path, pv: PvRunner) -> None:
    setup_v1(pv)
    old_dir_oid = [ln for ln in Path("data.pv").read_text().splitlines() if "oid:" in ln][0].split()[-1]
    gen({"data": {"a.csv": "A\n"}})
    pv.ok("add", "data")
    git_commit("v2")
    os.chmod(f".pv/cache/blake3/{old_dir_oid[7:9]}", 0o755)
    os.unlink(f".pv/cache/blake3/{old_dir_oid[7:9]}/{old_dir_oid[9:]}.dir")
    res = pv("diff", "HEAD~1", "HEAD", "--json")
    assert res.exit_code == 0, res
    doc = json.loads(res.stdout)
    assert [m["path"] for m in doc["modified"]] == ["data/"]
    assert doc["modified"][0]["oid"]["old"] == old_dir_oid
    assert doc["added"] == [] and doc["deleted"] == []
    assert res.stderr == "WARNING: 'data' is compared as a whole: its manifest is not in the cache (run 'pv fetch' to see its files)\n"


def test_pvignored_files_are_not_reported(pv_repo: Path, pv: PvRunner) -> None:
    gen({".pvignore": "*.tmp\n"})
    setup_v1(pv)
    gen({"data": {"scratch.tmp": "junk\n"}})
    assert pv("diff").stdout == ""


def test_repository_without_commits_shows_everything_added(git_repo: Path, pv: PvRunner) -> None:
    pv.ok("init")
    gen({"x.csv": "x\n"})
    pv.ok("add", "x.csv")
    doc = json.loads(pv("diff", "--json").stdout)
    assert doc["added"] == [{"path": "x.csv", "oid": oid("x\n"), "size": 2}]


def test_unknown_revision_is_an_error(pv_repo: Path, pv: PvRunner) -> None:
    res = pv("diff", "nosuchrev")
    assert res.exit_code == 1
    assert res.stderr == "ERROR: unknown revision 'nosuchrev' — use a branch, tag or commit that exists ('git log')\n"
    assert res.stdout == ""


def test_diff_needs_git(tmp_dir: Path, pv: PvRunner) -> None:
    pv.ok("init", "--no-scm")
    res = pv("diff")
    assert res.exit_code == 1
    assert res.stderr == (
        "ERROR: 'pv diff' compares Git revisions, but this repository has no Git"
        " — use it in a Git repository ('pv init' without --no-scm)\n"
    )


def test_diff_does_not_write_pointers_or_cache(pv_repo: Path, pv: PvRunner) -> None:
    setup_v1(pv)
    gen({"data": {"a.csv": "changed\n"}})
    before = sorted(p.as_posix() for p in Path(".pv/cache").rglob("*"))
    pointer = Path("data.pv").read_text()
    pv.ok("diff")
    assert sorted(p.as_posix() for p in Path(".pv/cache").rglob("*")) == before
    assert Path("data.pv").read_text() == pointer
    assert git("status", "--porcelain") == ""
    shutil.rmtree("data")  # a missing directory: every file deleted
    doc = json.loads(pv("diff", "--json").stdout)
    assert [d["path"] for d in doc["deleted"]] == ["data/", "data/a.csv", "data/b.csv"]
