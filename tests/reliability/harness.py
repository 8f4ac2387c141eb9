"""Shared machinery of the reliability suite: running ``pv`` in a child process (with the kill
shim, a resource limit, or a signal), snapshots of a work tree, and checks of cache objects."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipever.objects.hashing import hash_bytes, hash_file
from pipever.objects.oid import oid_from_relpath

if TYPE_CHECKING:
    from tests.helpers import PvRunner

SHIM_DIR = Path(__file__).parent / "shim"
FULL = os.environ.get("PV_RELIABILITY_FULL", "") not in ("", "0")
TMP_NAME = re.compile(r"^\..+\.[0-9a-f]{12}\.pvtmp$")
KILLED = -signal.SIGKILL
TAG_VAR = "PV_TEST_RUN_TAG"  # marks every process one run_pv call starts, however detached
_TAGS = itertools.count()


@dataclass
class Child:
    returncode: int
    stdout: str
    stderr: str


def child_env(extra: Mapping[str, str] | None = None, *, shim: bool = False) -> dict[str, str]:
    env = dict(os.environ)
    if shim:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SHIM_DIR), env.get("PYTHONPATH", "")]))
    env.update(extra or {})
    return env


def run_pv(
    args: Sequence[str], cwd: Path, *, env: Mapping[str, str] | None = None, shim: bool = False,
    timeout: float = 120, preexec_fn: Callable[[], None] | None = None,
) -> Child:
    """``python -m pipever ARGS`` in its own process group; returns once the whole group (a
    ``git`` it started and that outlived it, say) is gone."""
    tag = f"{os.getpid()}-{next(_TAGS)}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipever", *args], cwd=cwd, env={**child_env(env, shim=shim), TAG_VAR: tag},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=preexec_fn,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"pv {' '.join(args)} timed out: {err}") from None
    wait_group_gone(proc.pid)
    wait_tagged_gone(tag)
    return Child(proc.returncode, out, err)


def tagged(tag: str) -> list[int]:
    """Live processes started (directly or not) by the ``run_pv`` call that set ``tag``."""
    needle = f"{TAG_VAR}={tag}".encode()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            with open(f"/proc/{entry.name}/environ", "rb") as f:
                if needle not in f.read().split(b"\0"):
                    continue
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                if f.read().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X"):
                    continue
            found.append(int(entry.name))
    return found


def wait_tagged_gone(tag: str, timeout: float = 30) -> None:
    """Processes a killed pv started in sessions of their own (stage commands, which pv's stage
    guard kills when pv dies) are gone before anything looks at the work tree."""
    if not os.path.isdir("/proc"):
        return
    deadline = time.monotonic() + timeout
    while (pids := tagged(tag)) and time.monotonic() < deadline:
        time.sleep(0.01)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def wait_group_gone(pgid: int, timeout: float = 30) -> None:
    """Orphans of a killed pv (a running ``git add``) finish on their own, as after a real crash."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.01)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


# -- looking at a work tree ----------------------------------------------------------------------
Snapshot = dict[str, bytes]


def is_tmp(name: str) -> bool:
    return name.endswith(".pvtmp")


def snapshot(root: Path, *, skip_tmp: bool = True) -> Snapshot:
    """Content of every file of the work tree (symlinks followed), ``.git``, ``.pv/cache`` and
    ``.pv/tmp`` left out; pv's temp files too unless ``skip_tmp`` is False."""
    out: Snapshot = {}
    for dirpath, dirs, files in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        if rel_dir == ".":
            dirs[:] = [d for d in dirs if d != ".git"]
        if rel_dir == ".pv":
            dirs[:] = [d for d in dirs if d not in ("cache", "tmp")]
        if skip_tmp:  # a checkout's staging directory: a temp name like a temp file's
            dirs[:] = [d for d in dirs if not is_tmp(d)]
        for name in files + [d for d in dirs if os.path.islink(os.path.join(dirpath, d))]:
            if skip_tmp and is_tmp(name):
                continue
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            try:
                out[rel] = Path(dirpath, name).read_bytes()
            except (FileNotFoundError, IsADirectoryError):
                out[rel] = b"<dangling symlink or directory>"
    return out


def tmp_leftovers(root: Path, *, include_pv: bool = False) -> list[str]:
    found = []
    for dirpath, dirs, files in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        if rel_dir == ".":
            dirs[:] = [d for d in dirs if d != ".git" and (include_pv or d != ".pv")]
        found += [f"{rel_dir}/{n}" for n in files + dirs if is_tmp(n)]  # files, staging directories
    return sorted(found)


def between(
    current: Snapshot, versions: Sequence[Snapshot], *, recoverable: Callable[[bytes], bool] | None = None,
    cut_short: Callable[[str], bool] | None = None,
) -> list[str]:
    """Paths whose content is none of ``versions`` (absent counts as a version only where the
    path is absent in that version, or, with ``recoverable``, where the content it had is).
    Paths for which ``cut_short`` holds are written by a stage's own command, which the kill
    may have stopped mid-write: a beginning of one of their versions is accepted there (pv
    cannot make a user's command atomic; the rerun must still produce the clean result)."""
    bad = []
    paths = set(current).union(*versions)
    for path in sorted(paths):
        now = current.get(path)
        if any(now == v.get(path) for v in versions):
            continue
        old = versions[0].get(path)
        if now is None and old is not None and recoverable is not None and recoverable(old):
            continue
        if (now is not None and cut_short is not None and cut_short(path)
                and any((v.get(path) or b"").startswith(now) for v in versions)):
            continue
        what = "gone" if now is None else f"{len(now)} bytes, neither version"
        bad.append(f"{path}: {what}")
    return bad


def in_cache(store: Path, content: bytes) -> bool:
    oid = hash_bytes(content)
    return (store / oid.relpath(is_dir=False)).is_file()


def bad_objects(store: Path) -> list[str]:
    """Objects below ``store`` (a cache or a local remote) that do not hash to their names."""
    bad: list[str] = []
    base = store / "blake3"
    if not base.is_dir():
        return bad
    for shard in sorted(base.iterdir()):
        for entry in sorted(shard.iterdir()):
            parsed = oid_from_relpath(f"blake3/{shard.name}/{entry.name}")
            if parsed is None:
                if not is_tmp(entry.name):
                    bad.append(f"stray {shard.name}/{entry.name}")
                continue
            if hash_file(entry) != parsed[0]:
                bad.append(f"{shard.name}/{entry.name}")
    return bad


def objects(store: Path) -> set[str]:
    base = store / "blake3"
    if not base.is_dir():
        return set()
    return {f"{s.name}/{e.name}" for s in base.iterdir() for e in s.iterdir() if not is_tmp(e.name)}


def git_index(root: Path) -> str:
    return subprocess.run(["git", "ls-files", "-s"], cwd=root, capture_output=True, text=True, check=True).stdout


def make_writable_tree(path: Path) -> None:
    """chmod u+w everything below ``path`` that is not a symlink (read-only links from the cache)."""
    paths = [path] if not path.is_dir() else [path, *path.rglob("*")]
    for p in paths:
        if p.exists() and not p.is_symlink():
            p.chmod(p.stat().st_mode | 0o200)


def stat(kind: str, count: int, bad: int = 0) -> None:
    """Add to the suite's tally (``PV_RELIABILITY_STATS=FILE``: one JSON line per call), for the
    figures issue 6 asks for: cases tried and how many went wrong."""
    path = os.environ.get("PV_RELIABILITY_STATS")
    if path:
        import json

        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"kind": kind, "count": count, "bad": bad}) + "\n")


def make_base(tmp_path: Path, pv_repo: Path) -> Path:
    """``tmp_path/base`` holding the test's repository as ``repo`` next to an empty ``remote``
    folder: the pair a test copies whole for each kill or interrupt it tries."""
    base = tmp_path / "base"
    base.mkdir()
    shutil.move(str(pv_repo), base / "repo")
    (base / "remote").mkdir()
    return base


def report(kind: str, count: int, problems: Sequence[str]) -> None:
    """Tally ``count`` cases of ``kind`` (a case counts once, however many problems it had:
    each problem starts with ``<case>:``), then fail listing the problems, if any."""
    stat(kind, count, len({p.split(":")[0] for p in problems}))
    assert not problems, "\n".join(problems[:40])


def tracked_then_removed(root: Path, pv: "PvRunner", top: str = "data") -> None:
    """``top`` added, committed, then deleted from the work tree: a checkout has it all to write."""
    from tests.helpers import git_commit

    pv.ok("add", top, cwd=root)
    git_commit(top, cwd=root)
    shutil.rmtree(root / top)
