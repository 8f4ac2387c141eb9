"""pv doctor, pv du, pv ls-url and pv completion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import PvRunner, gen, git, git_commit
from tests.s3server import RemoteCase


@pytest.fixture
def data_repo(pv_repo: Path, pv: PvRunner) -> Path:
    """data/ (4000 bytes, tracked by pv), README.md (3 bytes, Git) committed."""
    gen({"data": {"sub": {"a.bin": b"a" * 3000}, "b.bin": b"b" * 1000}, "README.md": "hi\n"})
    pv.ok("add", "data")
    git_commit("data")
    return pv_repo


# -- du ------------------------------------------------------------------------------------------
def test_du_adds_up_git_files_and_tracked_data_like_dvc_du(data_repo: Path, pv: PvRunner) -> None:
    ignore = len((data_repo / ".gitignore").read_bytes())
    assert pv.ok("du").stdout == (f"{ignore:<7}.gitignore\n3.91k  data\n3      README.md\n"
                                  f"{(4003 + ignore) / 1024:.3g}k\n")
    assert pv.ok("du", ".", "data").stdout == "1000   data/b.bin\n2.93k  data/sub\n3.91k  data\n"
    assert pv.ok("du", ".", "data/sub/a.bin").stdout == "2.93k  data/sub/a.bin\n"
    entries = json.loads(pv.ok("du", "-s", "--json").stdout)
    assert entries == [{"path": ".", "size": 4003 + ignore, "isdir": True}]


def test_du_counts_data_that_is_not_here_and_reads_other_revisions(data_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    gen({"data": {"c.bin": b"c" * 500}})
    pv.ok("add", "data")
    git_commit("more data")
    clone = tmp_path / "clone"
    git("clone", "-q", str(data_repo), str(clone))  # no data pulled: sizes come from the pointers
    assert pv.ok("du", str(clone), "data", "-s", "--json", cwd=clone).stdout.count('"size": 4500') == 1
    res = pv.ok("du", str(clone), "data", "--rev", "HEAD~1", "--json", cwd=clone)
    assert json.loads(res.stdout)[-1] == {"path": "data", "size": 4000, "isdir": True}


def test_du_of_a_missing_path_is_an_error(data_repo: Path, pv: PvRunner) -> None:
    res = pv("du", ".", "nope")
    assert res.exit_code == 1 and res.stderr.startswith("ERROR: 'nope' does not exist in")


# -- ls-url --------------------------------------------------------------------------------------
def test_ls_url_lists_a_folder_recursively_with_sizes(data_repo: Path, pv: PvRunner) -> None:
    assert pv.ok("ls-url", "data").stdout == "b.bin\nsub\n"
    assert pv.ok("ls-url", "data", "-R", "--size").stdout == " 1000  b.bin\n2.93k  sub/a.bin\n"
    assert json.loads(pv.ok("ls-url", "data/b.bin", "--json").stdout) == [{"path": "b.bin", "isdir": False, "size": 1000}]
    res = pv("ls-url", "nope")
    assert (res.exit_code, res.stderr) == (1, "ERROR: 'nope' does not exist — check the URL\n")


@pytest.mark.s3
def test_ls_url_on_s3_with_a_remotes_options(pv_repo: Path, pv: PvRunner, s3_server, aws_env) -> None:  # type: ignore[no-untyped-def]
    from tests.s3server import s3_case

    case: RemoteCase = s3_case(s3_server)
    case.configure(pv, "store")
    case.write("in/x.csv", b"1,2\n")
    case.write("in/deep/y.csv", b"3\n")
    assert pv.ok("ls-url", case.url + "/in", "-r", "store").stdout == "deep\nx.csv\n"
    assert pv.ok("ls-url", case.url + "/in", "-r", "store", "-R").stdout == "deep/y.csv\nx.csv\n"
    res = pv("ls-url", case.url + "/in", "-r", "nope")
    assert res.exit_code == 1 and "nope" in res.stderr


# -- doctor --------------------------------------------------------------------------------------
def test_doctor_reports_versions_backends_links_and_formats(data_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    pv.ok("remote", "add", "-d", "store", str(tmp_path / "store"))
    pv.ok("remote", "add", "cloud", "s3://bucket/path")
    pv.ok("remote", "add", "old", str(tmp_path / "old"))
    pv.ok("remote", "modify", "old", "layout", "loose")
    pv.ok("push")
    pv.ok("push", "-r", "old")
    rep = json.loads(pv.ok("doctor", "--json").stdout)
    from pipever import __version__

    assert rep["pipever"] == __version__ and rep["python"] == sys.version.split()[0]
    assert rep["packages"]["blake3"] and rep["git"]
    assert {b["scheme"] for b in rep["backends"]} >= {"s3", "ssh", "azure", "gs"}
    missing = [b for b in rep["backends"] if not b["installed"]]
    assert all(b["install"].startswith("pip install") for b in missing)
    assert rep["fastcdc"] in ("compiled", "pure python", "not installed")
    assert rep["link_types"]["copy"] is True and rep["link_types"]["symlink"] is True
    assert rep["cache_objects"] == 3  # two files and the directory manifest
    by_name = {r["name"]: r for r in rep["remotes"]}
    assert by_name["store"]["format"].startswith("pv-remote.yaml: ") and "format=2" in by_name["store"]["format"]
    assert by_name["old"]["format"] == "loose objects, blake3/xx/<62 hex>"
    assert by_name["cloud"]["format"] == "not checked (doctor contacts no remote)"
    assert not list(data_repo.glob(".pv-doctor-*")) and not list((data_repo / ".pv/cache").glob(".doctor-*"))
    text = pv.ok("doctor").stdout
    assert f"pipever {__version__}\n" in text and "Link types that work here: " in text


def test_doctor_outside_a_repository_still_reports_the_installation(tmp_dir: Path, pv: PvRunner) -> None:
    text = pv.ok("doctor").stdout
    assert "Remote backends:\n" in text and text.endswith("Repository: none here\n")


def test_doctor_tells_compiled_pyfastcdc_from_its_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipever.commands.project.doctor import fastcdc_kind

    kind = fastcdc_kind()
    pytest.importorskip("pyfastcdc")
    assert kind in ("compiled", "pure python")
    monkeypatch.setitem(sys.modules, "pyfastcdc.cy", None)  # the extension fails to import
    monkeypatch.delitem(sys.modules, "pyfastcdc", raising=False)
    assert fastcdc_kind() == "pure python"


# -- completion ----------------------------------------------------------------------------------
@pytest.mark.parametrize("shell,marker", [("bash", "complete -o default -F"), ("zsh", "compdef"), ("fish", "complete --command pv")])
def test_completion_prints_a_script_for_each_shell(pv: PvRunner, shell: str, marker: str) -> None:
    script = pv.ok("completion", shell).stdout
    assert marker in script and "_PV_COMPLETE" in script


def test_completion_script_completes_commands_and_subcommands(tmp_dir: Path) -> None:
    env = {**os.environ, "_PV_COMPLETE": "complete_bash"}
    run = [sys.executable, "-m", "pipever"]
    out = subprocess.run(run, env={**env, "COMP_WORDS": "pv rem", "COMP_CWORD": "1"},
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0 and out.stdout.split() == ["remove", "remote"]
    out = subprocess.run(run, env={**env, "COMP_WORDS": "pv remote re", "COMP_CWORD": "2"},
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.stdout.split() == ["remove", "rename"]


def test_completion_refuses_an_unknown_shell(pv: PvRunner) -> None:
    res = pv("completion", "tcsh")
    assert res.exit_code == 2 and "'tcsh' is not one of bash, zsh, fish" in res.stderr
