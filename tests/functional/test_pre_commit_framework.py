"""pv's hooks run by the real pre-commit framework.

The framework runs the hooks of ``pv install --use-pre-commit-tool`` (a ``repo: local`` entry with
``language: system``: offline and fast) for real ``git commit``, ``git checkout`` and ``git push``,
which also covers how the framework passes refs (environment variables instead of arguments and
stdin). ``.pre-commit-hooks.yaml`` (``language: python``, for ``repo: <pipever's URL>``) is checked
with pre-commit's own manifest schema; running it through ``pre-commit try-repo`` builds a
virtualenv from PyPI (20-70 s, needs the network), so that test runs only with
``PV_TEST_TRY_REPO=1``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from pipever.objects.hashing import hash_bytes
from tests.helpers import PvRunner, gen, git, git_run

PROJECT = Path(__file__).resolve().parents[2]
HOOK_TYPES = ["--hook-type", "pre-commit", "--hook-type", "pre-push", "--hook-type", "post-checkout"]


def _pre_commit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], capture_output=True, text=True, check=False)


@pytest.fixture
def framework(pv_repo: Path, pv: PvRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """pv's hooks enabled through the pre-commit framework, with `pv` on PATH as in a venv."""
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path / "pre-commit-home"))
    pv.ok("install", "--use-pre-commit-tool")
    res = _pre_commit("install", *HOOK_TYPES)
    assert res.returncode == 0, res.stdout + res.stderr
    gen({"data.csv": "v1\n"})
    pv.ok("add", "data.csv")
    git("add", ".pre-commit-config.yaml", ".gitattributes")
    commit = git_run("commit", "-m", "data and hooks")
    assert commit.returncode == 0, commit.stdout + commit.stderr
    assert "pipever data and pipelines are committed....." in commit.stderr  # git shows hook output on stderr
    return pv_repo


def test_hooks_manifest_is_valid_for_pre_commit() -> None:
    manifest = PROJECT / ".pre-commit-hooks.yaml"
    res = _pre_commit("validate-manifest", str(manifest))
    assert res.returncode == 0, res.stdout + res.stderr
    hooks = {h["id"]: h for h in yaml.safe_load(manifest.read_text())}
    assert sorted(hooks) == ["pv-post-checkout", "pv-pre-commit", "pv-pre-push"]
    for hook_id, hook in hooks.items():
        name = hook_id.removeprefix("pv-")
        assert hook["entry"] == f"pv git-hook {name}"
        assert (hook["language"], hook["stages"], hook["always_run"], hook["pass_filenames"]) == (
            "python", [name], True, False)


def test_framework_refuses_a_commit_with_unrecorded_data(framework: Path, pv: PvRunner) -> None:
    gen({"data.csv": "edited\n"})
    res = git_run("commit", "--allow-empty", "-m", "x")
    assert res.returncode == 1
    assert "ERROR: 'data.csv' changed but the change is not recorded in 'data.csv.pv'" in res.stderr
    pv.ok("commit")
    res = git_run("commit", "-m", "record")
    assert res.returncode == 0, res.stdout


def test_framework_post_checkout_switches_data(framework: Path, pv: PvRunner) -> None:
    git("checkout", "-q", "-b", "feat")
    gen({"data.csv": "feat\n"})
    pv.ok("add", "data.csv")
    assert git_run("commit", "-m", "feat").returncode == 0
    res = git_run("checkout", "main")
    assert res.returncode == 0, res.stdout + res.stderr
    assert (framework / "data.csv").read_text() == "v1\n"
    git("checkout", "-q", "feat")
    assert (framework / "data.csv").read_text() == "feat\n"


def test_framework_pre_push_pushes_the_data(framework: Path, pv: PvRunner) -> None:
    store = framework.parent / "store"
    pv.ok("config", "--local", "remote.store.url", str(store))
    pv.ok("config", "--local", "core.remote", "store")
    pv.ok("config", "--local", "remote.store.layout", "loose")  # one file per object (packs: test_packs.py)
    git("init", "-q", "--bare", str(framework.parent / "origin.git"))
    git("remote", "add", "origin", str(framework.parent / "origin.git"))
    res = git_run("push", "origin", "main")
    assert res.returncode == 0, res.stdout + res.stderr
    assert (store / hash_bytes(b"v1\n").relpath()).read_bytes() == b"v1\n"

    gen({"data.csv": "v2\n"})
    pv.ok("add", "data.csv")
    assert git_run("commit", "-m", "v2").returncode == 0
    res = git_run("push", "origin", "main")  # the framework passes the range as PRE_COMMIT_FROM/TO_REF
    assert res.returncode == 0, res.stdout + res.stderr
    assert (store / hash_bytes(b"v2\n").relpath()).exists()


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("PV_TEST_TRY_REPO") != "1", reason="builds a virtualenv from PyPI; set PV_TEST_TRY_REPO=1")
def test_try_repo_runs_the_published_hooks(pv_repo: Path, pv: PvRunner, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "pipever-src"
    shutil.copytree(PROJECT / "pipever", src / "pipever", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", ".pre-commit-hooks.yaml", "README.md"):
        if (PROJECT / name).exists():
            shutil.copy(PROJECT / name, src / name)
    git("init", "-q", str(src))
    git("add", "-A", cwd=src)
    git("commit", "-qm", "pipever", cwd=src)
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path / "pre-commit-home"))
    monkeypatch.setenv("PIP_CACHE_DIR", str(Path(tempfile.gettempdir()) / "pipever-test-pip-cache"))  # reused across runs
    gen({"data.csv": "v1\n"})
    pv.ok("add", "data.csv")
    git("commit", "-qm", "data")
    gen({"data.csv": "edited\n"})
    res = _pre_commit("try-repo", str(src), "pv-pre-commit", "--all-files")
    assert res.returncode == 1, res.stdout + res.stderr
    assert "ERROR: 'data.csv' changed but the change is not recorded in 'data.csv.pv'" in res.stdout
