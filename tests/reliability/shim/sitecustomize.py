"""Kill-point shim for the reliability suite, loaded by Python at start-up as ``sitecustomize``
when this directory is on ``PYTHONPATH``.

It counts the calls a ``pv`` process makes that change files -- ``os.replace/rename/link/symlink/
unlink/remove/rmdir``, ``os.open`` for writing, ``shutil.copyfile``, writes to files opened for
writing (with ``open``, or ``os.write`` to a descriptor ``os.open`` gave for writing), and
starting a child process (``git add``) -- and gives each call two *points*: ``2k-1`` just before
call ``k`` and ``2k`` just after it. With ``PV_KILL_AT=P`` the process SIGKILLs itself
at point ``P``. A kill *before* a write or a copy first does half of it, so a half-written file is
left behind, as a real crash leaves one.

Environment (read once, then removed so that child processes -- git, stage commands -- run
without the shim):

- ``PV_KILL_AT``: the point to die at (unset: never).
- ``PV_KILL_COUNT_FILE``: at exit, write ``<calls>\\n`` and one line per call (``kind path``).
- ``PV_DELAY_EACH``: sleep this many seconds before each call (a slow pv, for concurrency tests).
"""

from __future__ import annotations

import atexit
import builtins
import io
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from typing import Any

_AT = os.environ.pop("PV_KILL_AT", None)
_COUNT_FILE = os.environ.pop("PV_KILL_COUNT_FILE", None)
_DELAY = float(os.environ.pop("PV_DELAY_EACH", "0") or 0)
_open = builtins.open


class _Points:
    def __init__(self, at: int | None) -> None:
        self.at = at
        self.calls = 0
        self.log: list[str] = []
        self.lock = threading.Lock()

    def before(self, kind: str, arg: object) -> bool:
        """Count a call; True when the process must die after doing half of it (writes)."""
        if _DELAY:
            time.sleep(_DELAY)
        with self.lock:
            self.calls += 1
            self.log.append(f"{kind} {arg}")
            point = 2 * self.calls - 1
        return point == self.at

    def after(self) -> None:
        with self.lock:
            point = 2 * self.calls
        if point == self.at:
            die()


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


P = _Points(int(_AT) if _AT else None)


def _plain(name: str) -> None:
    real = getattr(os, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if P.before(name, args[0] if args else ""):
            die()
        result = real(*args, **kwargs)
        P.after()
        return result

    setattr(os, name, wrapper)


def _copyfile(src: Any, dst: Any, *args: Any, **kwargs: Any) -> Any:
    if P.before("copyfile", dst):
        with _open(src, "rb") as s, _open(dst, "wb") as d:
            data = s.read()
            d.write(data[: len(data) // 2])
        die()
    result = _real_copyfile(src, dst, *args, **kwargs)
    P.after()
    return result


_real_copyfile = shutil.copyfile
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
    if not flags & _WRITE_FLAGS:
        return _real_os_open(path, flags, *args, **kwargs)
    if P.before("open", path):
        die()
    fd = _real_os_open(path, flags, *args, **kwargs)
    _write_fds[fd] = path
    P.after()
    return fd


_real_os_open = os.open
_write_fds: dict[int, Any] = {}  # descriptors os.open gave for writing: their os.write calls count


def _os_write(fd: int, data: Any) -> int:
    name = _write_fds.get(fd)
    if name is None:  # pipes and the like
        return _real_os_write(fd, data)
    if P.before("write", name):
        _real_os_write(fd, bytes(data)[: len(data) // 2])
        die()
    n = _real_os_write(fd, data)
    P.after()
    return n


def _os_close(fd: int) -> None:
    _write_fds.pop(fd, None)
    _real_os_close(fd)


_real_os_write = os.write
_real_os_close = os.close


class _Writer:
    """A file opened for writing whose ``write`` calls are counted (a kill writes half first)."""

    def __init__(self, f: Any, name: Any) -> None:
        object.__setattr__(self, "_f", f)
        object.__setattr__(self, "_name", name)

    def write(self, data: Any) -> int:
        if P.before("write", self._name):
            self._f.write(data[: len(data) // 2])
            self._f.flush()
            die()
        n: int = self._f.write(data)
        P.after()
        return n

    def __getattr__(self, name: str) -> Any:
        return getattr(self._f, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._f, name, value)

    def __enter__(self) -> _Writer:
        self._f.__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        return self._f.__exit__(*exc)

    def __iter__(self) -> Any:
        return iter(self._f)


def _open_wrapper(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
    f = _open(file, mode, *args, **kwargs)
    if isinstance(file, int) or not any(c in mode for c in "wax+"):
        return f
    return _Writer(f, file)


_real_execute_child = subprocess.Popen._execute_child  # type: ignore[attr-defined]


def _execute_child(self: Any, args: Any, *rest: Any, **kwargs: Any) -> Any:
    shown = args[0] if isinstance(args, (list, tuple)) and args else args
    if P.before("spawn", shown):
        die()
    result = _real_execute_child(self, args, *rest, **kwargs)
    P.after()
    return result


def _write_count() -> None:
    if _COUNT_FILE:
        with _open(_COUNT_FILE, "w") as f:
            f.write(f"{P.calls}\n" + "".join(line.replace("\n", " ") + "\n" for line in P.log))


def install() -> None:
    for name in ("replace", "rename", "link", "symlink", "unlink", "remove", "rmdir"):
        _plain(name)
    os.open = _os_open  # type: ignore[assignment]
    os.write = _os_write  # type: ignore[assignment]
    os.close = _os_close  # type: ignore[assignment]
    shutil.copyfile = _copyfile  # type: ignore[assignment]
    builtins.open = _open_wrapper
    io.open = _open_wrapper  # type: ignore[assignment]
    subprocess.Popen._execute_child = _execute_child  # type: ignore[attr-defined]
    atexit.register(_write_count)


if _AT is not None or _COUNT_FILE or _DELAY:
    install()
    sys.dont_write_bytecode = True
