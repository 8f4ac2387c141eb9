"""Test helpers: run `pv` in-process with captured output, build file trees, run git."""

from __future__ import annotations

import zlib

import io
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def __repr__(self) -> str:  # shown by pytest when an assertion fails
        return f"Result(exit_code={self.exit_code}, stdout={self.stdout!r}, stderr={self.stderr!r})"


class PvRunner:
    """Calls ``pipever.cli.app.main`` exactly as the ``pv`` script does, capturing output."""

    def __call__(self, *args: str, cwd: Path | None = None) -> Result:
        import os

        from pipever.cli import app, context

        context.STATE.__init__()  # type: ignore[misc]
        out, err = io.StringIO(), io.StringIO()
        old = os.getcwd()
        if cwd is not None:
            os.chdir(cwd)
        try:
            with redirect_stdout(out), redirect_stderr(err):
                code = app.main([str(a) for a in args])
        finally:
            os.chdir(old)
        return Result(code, out.getvalue(), err.getvalue())

    def ok(self, *args: str, cwd: Path | None = None) -> Result:
        res = self(*args, cwd=cwd)
        assert res.exit_code == 0, res
        return res


def gen(tree: dict[str, Any], root: Path | None = None) -> None:
    """Create files from a nested dict: {"dir": {"a.csv": "text"}, "b.bin": b"bytes"}."""
    base = root or Path.cwd()
    for name, content in tree.items():
        path = base / name
        if isinstance(content, dict):
            path.mkdir(parents=True, exist_ok=True)
            gen(content, path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)


def git(*args: str, cwd: Path | None = None, check: bool = True) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


def git_commit(msg: str, cwd: Path | None = None) -> str:
    git("add", "-A", cwd=cwd)
    git("commit", "-qm", msg, cwd=cwd)
    return git("rev-parse", "HEAD", cwd=cwd).strip()


def python() -> str:
    return sys.executable


def git_run(*args: str, cwd: Path | None = None, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run git (its hooks included) and return the finished process whatever its exit code."""
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, input=input, check=False)


def png(color: int) -> bytes:
    """A valid 1x1 grey PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")
    ihdr = (1).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes([0, color])))
            + chunk(b"IEND", b""))
