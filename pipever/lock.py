"""The repo lock: one pv process writes a repository at a time.

An ``flock`` on ``.pv/tmp/lock``: the kernel releases it when the holder dies, so a lock left by a
dead process (kill -9) is taken over automatically. The holder's PID and command are written
next to it so a second process can name them. That file is deleted when the lock is let go, so
finding it on taking the lock means the previous holder was killed: ``repo_lock`` yields True
then, and the caller cleans up what a killed process may have left (its temp files).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

from pipever.concurrency import deferred_sigint
from pipever.errors import RepoLockedError

TIMEOUT = 2.0


@contextlib.contextmanager
def repo_lock(tmp_dir: Path, *, command: str, wait: bool = False, timeout: float = TIMEOUT) -> Iterator[bool]:
    tmp_dir.mkdir(parents=True, exist_ok=True)
    path = tmp_dir / "lock"
    info = tmp_dir / "lock.info"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    pid, cmd = _holder(info)
                    raise RepoLockedError(pid, cmd) from None
                time.sleep(0.1)
        # Ctrl-C is held back while the holder file is written and removed: an interrupted
        # release must not leave a live-looking lock.info behind (it is honoured right after)
        try:
            with deferred_sigint() as early:
                holder_died = info.exists()
                with contextlib.suppress(OSError):
                    info.write_text(json.dumps({"pid": os.getpid(), "command": command}))
            if early.is_set():
                raise KeyboardInterrupt
            yield holder_died
        finally:
            with deferred_sigint() as late:
                with contextlib.suppress(OSError):
                    info.unlink()
                fcntl.flock(fd, fcntl.LOCK_UN)
            if late.is_set():
                raise KeyboardInterrupt
    finally:
        os.close(fd)


def _holder(info: Path) -> tuple[int | None, str | None]:
    try:
        data = json.loads(info.read_text())
        return int(data["pid"]), str(data["command"])
    except (OSError, ValueError, KeyError, TypeError):
        return None, None
