"""Batched work on many small files: the hot loops of add, commit, status and checkout.

A few worker threads each take a batch of files and run one tight loop over it: no thread future
and no state-db round trip per file. A small file is read once with one ``read`` call; its bytes
are hashed and, when the cache lacks the object, written from the same buffer into a temp name in
the cache that is renamed into place read-only. So what enters the cache is exactly what was
hashed, and a file that changed while it was read (its stat moved) is refused.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence
from typing import TypeVar

from pipever.concurrency import cpu_cores, process_map, thread_map
from pipever.fsutil import TMP_SUFFIX, tmp_stem

T = TypeVar("T")
R = TypeVar("R")

SMALL = 1 << 20  # files up to this size are read whole, hashed and copied from one buffer
BATCH = 512  # files per batch: large enough that scheduling a batch costs nothing per file
MAX_WORKERS = 4  # the loop holds the GIL between syscalls: more threads only contend for it
MAX_PROCESSES = 8  # forked workers: past this the disk, not the CPU, sets the pace
FORK_MIN = 1024  # files: below this, forking costs more than it saves

_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_TAG = os.urandom(3).hex()  # temp names: this process's tag + a counter (EEXIST falls back)
_counter = itertools.count()


def workers(jobs: int = 0) -> int:
    """Threads for a batched loop: ``jobs`` when given, else a few per core."""
    return jobs if jobs > 0 else min(MAX_WORKERS, 2 * (os.cpu_count() or 1))


def processes(jobs: int = 0) -> int:
    """Processes for a forked batched loop: ``jobs`` when given, else one per core it may use."""
    return jobs if jobs > 0 else min(MAX_PROCESSES, cpu_cores())


def batches(items: Sequence[T], jobs: int) -> list[Sequence[T]]:
    """``items`` cut into consecutive batches, about four per worker, at most ``BATCH`` long."""
    size = max(16, min(BATCH, -(-len(items) // (4 * jobs))))
    return [items[i:i + size] for i in range(0, len(items), size)]


def batch_map(
    fn: Callable[[Sequence[T]], list[R]], items: Sequence[T], *, jobs: int = 0, fork: bool = False,
    on_batch: Callable[[Sequence[T], list[R]], None] | None = None,
) -> list[R]:
    """``fn`` over consecutive batches of ``items``; the results concatenated in order.
    ``on_batch(batch, results)`` follows each batch (progress).

    With ``fork``, and enough items to be worth it, the batches run in forked processes
    (``concurrency.process_map``: ``fn`` may then touch only the filesystem, must be safe to
    repeat, and returns what pickles). Otherwise in a few threads. Ctrl-C cancels the batches
    not started (see ``thread_map``)."""
    if not items:
        return []
    parts: list[list[R]] | None = None
    if fork and len(items) >= FORK_MIN:
        n = processes(jobs)
        cut = batches(items, n)
        done = None if on_batch is None else (lambda i, r: on_batch(cut[i], r))
        parts = process_map(fn, cut, procs=n, on_result=done)
    if parts is None:
        n = workers(jobs)
        run = fn if on_batch is None else (lambda batch: _reported(fn, batch, on_batch))
        parts = thread_map(run, batches(items, n), jobs=n, serial_below=2)
    return [r for part in parts for r in part]


def _reported(fn: Callable[[Sequence[T]], list[R]], batch: Sequence[T],
              on_batch: Callable[[Sequence[T], list[R]], None]) -> list[R]:
    out = fn(batch)
    on_batch(batch, out)
    return out


def tmp_sibling(dirpath: str, name: str) -> str:
    """A temp name next to ``dirpath/name`` that ``fsutil.is_tmp_name`` recognizes."""
    return f"{dirpath}{os.sep}.{tmp_stem(name)}.{_TAG}{next(_counter) & 0xFFFFFF:06x}{TMP_SUFFIX}"


def read_small(path: str, size: int, mtime_ns: int, *, check: bool = True) -> bytes | None:
    """The bytes of the file at ``path``, which had ``size`` and ``mtime_ns`` when it was listed;
    None when it is no longer that long or (with ``check``) its stat moved while it was read.
    Callers that stat the file again later pass ``check=False``. OSError as the OS raises it."""
    fd = os.open(path, _READ)
    try:
        data = read_fd(fd, size)
        if check:
            after = os.fstat(fd)
            if after.st_size != size or after.st_mtime_ns != mtime_ns:
                return None
    finally:
        os.close(fd)
    return data if len(data) == size else None


def read_fd(fd: int, n: int, offset: int = 0) -> bytes:
    """``n`` bytes of open file ``fd`` from ``offset`` (fewer only where it ends): one ``pread``,
    and more where a read came back short (interrupted)."""
    data = os.pread(fd, n, offset)
    while 0 < len(data) < n:
        more = os.pread(fd, n - len(data), offset + len(data))
        if not more:
            break
        data += more
    return data


def write_new(path: str, data: bytes, mode: int, *, fix_mode: bool) -> None:
    """Create ``path`` (which must not exist) holding ``data`` with permissions ``mode``
    (exactly, whatever the umask, when ``fix_mode``). The file is removed again when writing
    fails."""
    fd = os.open(path, _CREATE, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if fix_mode:
            os.fchmod(fd, mode)
    except BaseException:
        os.close(fd)
        os.unlink(path)
        raise
    os.close(fd)


def umask_strips(mode: int) -> bool:
    """True when the process umask would take bits off ``mode`` (then ``fchmod`` restores them)."""
    return bool(current_umask() & mode)


def current_umask() -> int:
    """The process umask, read without changing it where Linux tells (``/proc/self/status``);
    elsewhere set and restored at once."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current
