"""A throw-away directory per workload run, with an isolated HOME and a fixed git identity."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

# Variables of the caller's environment that would change what pv, dvc or git do.
DROPPED_PREFIXES = ("PV_", "DVC_", "GIT_", "AWS_", "XDG_", "PIPEVER_")
# A developer's setting a user's shell lacks: without bytecode files every run of a tool from a
# source checkout (pv in the dev venv) compiles its modules again, while pip-installed DVC has
# them. Users write them on first run, so the tools run with them.
DROPPED_NAMES = ("PYTHONDONTWRITEBYTECODE",)

IDENTITY = {
    "GIT_AUTHOR_NAME": "pv bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "pv bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}

# Dummy credentials for the local moto S3 server; DVC's usage analytics off.
FIXED = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "DVC_NO_ANALYTICS": "1",
}


class SetupError(RuntimeError):
    """An untimed preparation command failed."""


def isolated_env(home: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment minus tool settings, with HOME and XDG dirs under ``home``."""
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if not k.startswith(DROPPED_PREFIXES) and k not in DROPPED_NAMES}
    env.update(IDENTITY)
    env.update(FIXED)
    env["HOME"] = str(home)
    env["XDG_CONFIG_HOME"] = str(home / ".config")
    env["XDG_CACHE_HOME"] = str(home / ".cache")
    env["XDG_DATA_HOME"] = str(home / ".local" / "share")
    return env


def remove_tree(path: Path) -> None:
    """``rmtree`` that also removes read-only files and directories (cache objects)."""

    def make_writable_and_retry(func, target, _exc):  # type: ignore[no-untyped-def]
        parent = os.path.dirname(target)
        os.chmod(parent, os.stat(parent).st_mode | stat.S_IWUSR | stat.S_IXUSR)
        if os.path.isdir(target) and not os.path.islink(target):
            os.chmod(target, os.stat(target).st_mode | stat.S_IWUSR | stat.S_IXUSR)
        func(target)

    if path.exists():
        shutil.rmtree(path, onerror=make_writable_and_retry)


class Sandbox:
    """``root/home`` is HOME; workloads create repos and remotes beside it."""

    def __init__(self, parent: Path | None = None, *, keep: bool = False) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="pv-bench-", dir=parent))
        self.home = self.root / "home"
        (self.home / ".config").mkdir(parents=True)
        self.env = isolated_env(self.home)
        self.keep = keep

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self.keep:
            self.remove()

    def remove(self) -> None:
        remove_tree(self.root)

    def run(self, argv: Sequence[str], *, cwd: Path | None = None) -> str:
        """Run an untimed command; raise ``SetupError`` with its output if it fails."""
        proc = subprocess.run(
            list(argv),
            cwd=cwd or self.root,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            output = (proc.stdout + proc.stderr).strip()[-600:]
            raise SetupError(f"`{' '.join(argv)}` exited {proc.returncode}: {output}")
        return proc.stdout
