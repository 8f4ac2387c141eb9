"""The engine under every transfer: ``run`` maps an action over items on a thread pool, collecting
failures instead of raising (a fatal remote error stops new items from starting), and
``split_ready`` finds the directory manifests whose files are all on the remote."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sized
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pipever.errors import PvError, RemoteError
from pipever.objects.odb import ObjectRef
from pipever.remote import failures
from pipever.remote.base import Remote

T = TypeVar("T")
Advance = Callable[[int], None]  # called with the number of items just finished
# a transfer with an object this big reports its progress in bytes (else in objects: many small
# files are better counted than measured)
BYTES_PROGRESS_MIN = 16 << 20


@dataclass
class Outcome(Generic[T]):
    done: list[T] = field(default_factory=list)
    failed: list[tuple[T, PvError]] = field(default_factory=list)
    not_attempted: list[T] = field(default_factory=list)  # skipped after a fatal error

    @property
    def fatal(self) -> PvError | None:
        return next((e for _, e in self.failed if failures.fatal(e)), None)


def run(
    items: Iterable[T], action: Callable[[T], object], *, jobs: int, translate: Callable[[BaseException], PvError],
    advance: Advance | None = None,
) -> Outcome[T]:
    """Apply ``action`` to every item on ``jobs`` threads; errors are collected, not raised.
    ``items`` may be a generator: it is drawn from on this thread while earlier items run."""
    outcome: Outcome[T] = Outcome()
    if isinstance(items, Sized) and not items:
        return outcome
    stop = threading.Event()
    skipped = object()

    def task(item: T) -> object:
        if stop.is_set():
            return skipped
        try:
            action(item)
        except Exception as exc:  # noqa: BLE001 - every failure is reported with its item
            err = translate(exc)
            if failures.fatal(err):
                stop.set()
            return err
        return None

    workers = max(1, min(jobs, len(items)) if isinstance(items, Sized) else jobs)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pv-transfer")
    futures: dict[Future[object], T] = {}
    try:
        # keep a bounded window in flight so a fatal error or Ctrl-C stops quickly
        pending: set[Future[object]] = set()
        it = iter(items)
        window = max(1, jobs) * 4
        exhausted = False
        while True:
            while not exhausted and len(pending) < window:
                item = next(it, None)
                if item is None:
                    exhausted = True
                    break
                fut = pool.submit(task, item)
                futures[fut] = item
                pending.add(fut)
            if not pending:
                break
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                res = fut.result()
                item = futures.pop(fut)
                if res is skipped:
                    outcome.not_attempted.append(item)
                elif isinstance(res, PvError):
                    outcome.failed.append((item, res))
                else:
                    outcome.done.append(item)
                if advance is not None:
                    advance(1)
            if stop.is_set() and not exhausted:
                outcome.not_attempted.extend(it)
                exhausted = True
    except BaseException:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return outcome


def split_ready(
    remote: Remote, manifests: Mapping[ObjectRef, Collection[ObjectRef]], on_remote: Collection[ObjectRef],
) -> tuple[list[ObjectRef], list[tuple[ObjectRef, PvError]]]:
    """Manifests whose files are all in ``on_remote``, and the others with their error."""
    ready: list[ObjectRef] = []
    blocked: list[tuple[ObjectRef, PvError]] = []
    for m, listed in manifests.items():
        missing = sum(1 for f in listed if f not in on_remote)
        if not missing:
            ready.append(m)
        else:
            blocked.append((m, RemoteError(
                f"directory manifest not uploaded: {missing} of its files are not on remote '{remote.name}'",
            )))
    return ready, blocked
