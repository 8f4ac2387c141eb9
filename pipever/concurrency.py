"""Thread pools that stop promptly and safely.

A SIGINT must not be raised inside the executor's own locking (that deadlocks the pool), so while
a pool runs, Ctrl-C only sets a flag: queued work is cancelled, running items finish (each is
atomic), and KeyboardInterrupt is raised on the main thread at a safe point."""

from __future__ import annotations

import contextlib
import os
import signal
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
