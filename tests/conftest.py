"""Shared fixtures: an isolated temp dir, a real Git repo, a pv repo, and an in-process `pv`."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import PvRunner, gen, git  # noqa: F401 - re-exported for tests

pytest_plugins = ["tests.s3server"]

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test User",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test User",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for k, v in GIT_ENV.items():
        monkeypatch.setenv(k, v)
    for k in ("PV_CACHE_DIR", "PV_REMOTE", "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(k, raising=False)


@pytest.fixture
def tmp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def _git_init(path: Path) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, env={**os.environ, **GIT_ENV})
    subprocess.run(["git", "-C", str(path), "config", "user.name", "Test User"], check=True)
    subprocess.run(["git", "-C", str(path), "config", "user.email", "test@example.com"], check=True)
    subprocess.run(["git", "-C", str(path), "config", "commit.gpgsign", "false"], check=True)


@pytest.fixture
def git_repo(tmp_dir: Path) -> Path:
    _git_init(tmp_dir)
    return tmp_dir


@pytest.fixture(scope="session")
def _pv_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tpl = tmp_path_factory.mktemp("template") / "repo"
    tpl.mkdir()
    _git_init(tpl)
    from pipever.commands.project.init import init

    init(tpl)
    subprocess.run(["git", "-C", str(tpl), "commit", "-qm", "init pv"], check=True, env={**os.environ, **GIT_ENV})
    return tpl


@pytest.fixture
def pv_repo(tmp_dir: Path, _pv_template: Path) -> Path:
    """A Git repo with `pv init` committed, as the current directory."""
    shutil.copytree(_pv_template, tmp_dir, dirs_exist_ok=True, symlinks=True)
    return tmp_dir


@pytest.fixture
def pv() -> Iterator[PvRunner]:
    yield PvRunner()
