"""Thread pools, and forked worker processes (``process_map``), that stop promptly and safely.

A SIGINT must not be raised inside the executor's own locking (that deadlocks the pool), so while
a pool runs, Ctrl-C only sets a flag: queued work is cancelled, running items finish (each is
atomic), and KeyboardInterrupt is raised on the main thread at a safe point."""

from __future__ import annotations

import contextlib
import os
import signal
import struct
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _Cancelled(Exception):
    pass


_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
_malloc_steady = False


def steady_malloc() -> None:
    """Before a bulk transfer: buffers over 2 MiB (upload parts, merged range reads) are mapped
    and unmapped on their own, always. glibc otherwise raises that threshold after the first big
    buffer is freed, and every later one is carved from the heaps of the threads that moved it,
    where it stays resident (a 20k-file push to S3 peaked at 145-159 MiB for a heap of 97 MiB;
    with this, 130 MiB). 1 MiB pieces (file copies, hashing) stay below it: mapping each of
    those afresh page-faults the whole stream (a 2 GiB push took 20-200% more system time).
    Nothing happens off glibc."""
    global _malloc_steady
    if _malloc_steady:
        return
    _malloc_steady = True
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return
        import ctypes

        ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, 2 << 20)
    except (OSError, AttributeError, ValueError, TypeError):  # no glibc (macOS, musl, Windows)
        return


def default_jobs(io_bound: bool = True) -> int:
    cores = os.cpu_count() or 1
    return min(16, cores * 4) if io_bound else cores


@contextlib.contextmanager
def deferred_sigint() -> Iterator[threading.Event]:
    """While active (on the main thread), SIGINT sets the yielded event instead of raising."""
    event = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield event
        return
    try:
        previous: Any = signal.signal(signal.SIGINT, lambda *_: event.set())
    except ValueError:  # not the main interpreter
        yield event
        return
    try:
        yield event
    finally:
        signal.signal(signal.SIGINT, previous)


def thread_map(fn: Callable[[T], R], items: Sequence[T], *, jobs: int = 0, serial_below: int = 32) -> list[R]:
    """``[fn(x) for x in items]`` on up to ``jobs`` threads (0: a default for I/O work)."""
    jobs = jobs or default_jobs()
    if len(items) < serial_below or jobs <= 1:
        return [fn(x) for x in items]
    from concurrent.futures import ThreadPoolExecutor  # ~4 ms: only where work runs in parallel
    from concurrent.futures import TimeoutError as FutureTimeout

    stop = threading.Event()

    def guarded(x: T) -> R:
        if stop.is_set():
            raise _Cancelled
        return fn(x)

    with deferred_sigint() as interrupted:
        pool = ThreadPoolExecutor(max_workers=min(jobs, len(items)), thread_name_prefix="pv")
        try:
            futures = [pool.submit(guarded, x) for x in items]
            results: list[R] = []
            for f in futures:
                while True:
                    if interrupted.is_set():
                        raise KeyboardInterrupt
                    try:
                        results.append(f.result(timeout=0.2))
                        break
                    except FutureTimeout:
                        continue
            if interrupted.is_set():  # Ctrl-C during the last item: still honour it
                raise KeyboardInterrupt
            return results
        except BaseException:
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            pool.shutdown(wait=True)


def can_fork() -> bool:
    """True where ``process_map`` forks: Linux, on the main thread (fork elsewhere is either
    missing, as on Windows, or unsafe for the system libraries, as on macOS)."""
    return (
        sys.platform.startswith("linux")
        and hasattr(os, "fork")
        and threading.current_thread() is threading.main_thread()
    )


def cpu_cores() -> int:
    """The cores this process may run on (its affinity mask, e.g. a container's or a SLURM job's
    share), not every core of the machine."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


_HEAD = struct.Struct("!IBQ")  # batch index, 0 = a result / 1 = it raised, payload length
_TASK = struct.Struct("!I")


class _Child:
    __slots__ = ("pid", "task_w", "res_r", "batch", "buf")

    def __init__(self, pid: int, task_w: int, res_r: int) -> None:
        self.pid, self.task_w, self.res_r = pid, task_w, res_r
        self.batch: int | None = None  # the batch it runs now
        self.buf = bytearray()


def process_map(
    fn: Callable[[T], R], items: Sequence[T], *, procs: int,
    on_result: Callable[[int, R], None] | None = None,
) -> list[R] | None:
    """``[fn(x) for x in items]`` in ``procs`` forked worker processes, for loops whose work is
    many small system calls: threads would only pass the GIL to each other around every call
    (on 2 cores, 4 threads took twice as long as 1). None when this platform cannot fork (see
    ``can_fork``): the caller runs the items itself.

    ``fn`` runs in a child that is a copy of this process: it may touch only the filesystem and
    what it is given; what it returns is pickled back. It must not log, print or use a database
    connection. Items are handed out one at a time, so a slow one holds up no other.
    ``on_result(i, result)`` runs here as each result arrives (progress).

    An item whose ``fn`` raised in a child (or whose child died) is run again here, so the
    exception raised is the real one with its traceback; ``fn`` must therefore be safe to repeat.
    Ctrl-C: the children ignore it; no further item is handed out, the running ones finish
    (each writes atomically) and KeyboardInterrupt is raised here."""
    if procs < 2 or len(items) < 2 or not can_fork():
        return None
    import gc
    import pickle
    import selectors

    missing = object()
    results: list[Any] = [missing] * len(items)
    redo: list[int] = []
    next_item = iter(range(len(items)))
    children: dict[int, _Child] = {}  # by res_r
    sel = selectors.DefaultSelector()

    def hand_out(child: _Child, stop: bool) -> None:
        i = None if stop else next(next_item, None)
        child.batch = i
        if i is None:
            if child.task_w >= 0:
                os.close(child.task_w)
                child.task_w = -1
            return
        try:
            os.write(child.task_w, _TASK.pack(i))
        except OSError:  # it died: its item is run here
            redo.append(i)
            child.batch = None

    parent = os.getpid()
    with deferred_sigint() as interrupted:
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        gc.freeze()  # the children share this process's objects without copying their pages
        try:
            for _ in range(min(procs, len(items))):
                task_r, task_w = os.pipe()
                res_r, res_w = os.pipe()
                pid = os.fork()
                if pid == 0:  # never returns
                    others = [fd for c in children.values() for fd in (c.task_w, c.res_r)]
                    _child_main(fn, items, task_r, res_w, [task_w, res_r, *others], blocked, parent)
                os.close(task_r)
                os.close(res_w)
                children[res_r] = _Child(pid, task_w, res_r)
                sel.register(res_r, selectors.EVENT_READ)
        except BaseException:
            _end_children(children, sel)
            raise
        finally:
            gc.unfreeze()
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        try:
            for child in children.values():
                hand_out(child, False)
            while children:
                for key, _ in sel.select(timeout=0.2):
                    fd = key.fd
                    child = children[fd]
                    chunk = os.read(fd, 1 << 16)
                    if not chunk:  # it exited (its item, if any, is run here)
                        if child.batch is not None:
                            redo.append(child.batch)
                        _reap(child, sel)
                        del children[fd]
                        continue
                    child.buf += chunk
                    while len(child.buf) >= _HEAD.size:
                        i, failed, n = _HEAD.unpack_from(child.buf)
                        if len(child.buf) < _HEAD.size + n:
                            break
                        payload = bytes(child.buf[_HEAD.size:_HEAD.size + n])
                        del child.buf[:_HEAD.size + n]
                        if failed:
                            redo.append(i)
                        else:
                            results[i] = pickle.loads(payload)
                            if on_result is not None:
                                on_result(i, results[i])
                        hand_out(child, bool(redo) or interrupted.is_set())
                if interrupted.is_set():  # no more items; the running ones finish
                    for child in children.values():
                        if child.batch is None:
                            hand_out(child, True)
            if interrupted.is_set():
                raise KeyboardInterrupt
        finally:
            _end_children(children, sel)
    for i in sorted(redo) + [i for i in range(len(items)) if results[i] is missing and i not in redo]:
        results[i] = fn(items[i])  # raises what the child met, here
        if on_result is not None:
            on_result(i, results[i])
    return results


def _child_main(
    fn: Callable[[Any], Any], items: Sequence[Any], task_r: int, res_w: int, close: list[int], mask: Any,
    parent: int,
) -> None:
    """A forked worker: run the items named on ``task_r`` until it closes; never returns."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C stops
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        _die_with_parent(parent)
        import gc
        import pickle

        gc.disable()  # short-lived: nothing to collect that exit does not free
        for fd in close:
            if fd >= 0:
                os.close(fd)
        while True:
            head = _read_exact(task_r, _TASK.size)
            if head is None:
                break
            (i,) = _TASK.unpack(head)
            try:
                payload, failed = pickle.dumps(fn(items[i]), pickle.HIGHEST_PROTOCOL), 0
            except Exception:  # noqa: BLE001 - the parent runs the item again and raises it
                payload, failed = b"", 1
            view = memoryview(_HEAD.pack(i, failed, len(payload)) + payload)
            while view:
                view = view[os.write(res_w, view):]
        code = 0
    finally:
        os._exit(code)  # no atexit, no flush of the parent's buffers, no finalizers


def _die_with_parent(parent: int) -> None:
    """A worker killed with its parent (kill -9) stops at once: it holds a copy of the repo
    lock's descriptor, which must not outlive the parent (what it leaves, a temp file, the next
    command that takes the lock removes)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before that took effect
        os._exit(1)


def _read_exact(fd: int, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        more = os.read(fd, n - len(data))
        if not more:
            return None
        data += more
    return data


def _reap(child: _Child, sel: Any) -> None:
    sel.unregister(child.res_r)
    for fd in (child.task_w, child.res_r):
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
    child.task_w = child.res_r = -1
    with contextlib.suppress(ChildProcessError):
        os.waitpid(child.pid, 0)


def _end_children(children: dict[int, _Child], sel: Any) -> None:
    """Close every pipe (a child finishes its item, then finds no next one or cannot send its
    result, and exits) and wait for the children."""
    for child in list(children.values()):
        _reap(child, sel)
    children.clear()
    sel.close()
