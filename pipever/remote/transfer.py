"""Many object transfers at once, losing nothing when some fail.

``run`` maps an action over items on a thread pool (fsspec's async backends multiplex the
threads' calls on their event loop). A failed item does not stop the others; a fatal remote
error (unreachable, access denied, ...) stops new items from starting, and they are reported
as not attempted. ``upload`` sends files first and a directory manifest only once every file it
lists is on the remote, so a remote never holds a manifest whose files are missing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pipever.errors import PvError, RemoteError
from pipever.objects.odb import ObjectDB, ObjectRef
from pipever.remote import failures
from pipever.remote.base import ON_BYTES, Remote

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
    items: Sequence[T], action: Callable[[T], object], *, jobs: int, translate: Callable[[BaseException], PvError],
    advance: Advance | None = None,
) -> Outcome[T]:
    """Apply ``action`` to every item on ``jobs`` threads; errors are collected, not raised."""
    outcome: Outcome[T] = Outcome()
    if not items:
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

    pool = ThreadPoolExecutor(max_workers=max(1, min(jobs, len(items))), thread_name_prefix="pv-transfer")
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


def upload(
    remote: Remote, odb: ObjectDB, files: Collection[ObjectRef], manifests: Mapping[ObjectRef, Collection[ObjectRef]],
    *, present: Collection[ObjectRef], jobs: int, advance: Advance | None = None,
    on_bytes: Advance | None = None,
) -> Outcome[ObjectRef]:
    """Upload ``files``, then each manifest whose listed files are all on the remote by then
    (``present``: what the remote already had). ``advance`` counts objects, ``on_bytes`` bytes
    (as the backend sends them, the rest of an object when it is done)."""
    def put(ref: ObjectRef) -> None:
        path = odb.path(ref.oid, is_dir=ref.is_dir)
        if on_bytes is None:
            remote.upload(ref, path)
            return
        sent = _Counter(on_bytes)
        token = ON_BYTES.set(sent)
        try:
            remote.upload(ref, path)
        finally:
            ON_BYTES.reset(token)
        sent.finish(path.stat().st_size)

    outcome = run(sorted(files, key=_order), put, jobs=jobs, translate=remote.error, advance=advance)
    if outcome.fatal is not None:
        outcome.not_attempted.extend(manifests)
        return outcome
    on_remote = set(present) | set(outcome.done)
    ready: list[ObjectRef] = []
    blocked: list[ObjectRef] = []
    for m, listed in manifests.items():
        (ready if all(f in on_remote for f in listed) else blocked).append(m)
    for m in blocked:
        missing = sum(1 for f in manifests[m] if f not in on_remote)
        outcome.failed.append((m, RemoteError(
            f"directory manifest not uploaded: {missing} of its files are not on remote '{remote.name}'",
        )))
    second = run(sorted(ready, key=_order), put, jobs=jobs, translate=remote.error, advance=advance)
    outcome.done += second.done
    outcome.failed += second.failed
    outcome.not_attempted += second.not_attempted
    return outcome


def download(
    remote: Remote, odb: ObjectDB, refs: Collection[ObjectRef], *, jobs: int, advance: Advance | None = None,
    sizes: Mapping[ObjectRef, int] | None = None, on_bytes: Advance | None = None,
) -> Outcome[ObjectRef]:
    """Fetch ``refs`` into the cache, each verified before it enters it (``sizes``: expected
    sizes where known, so small objects can be read into memory; ``on_bytes``: bytes received)."""
    known = sizes or {}

    def get(ref: ObjectRef) -> None:
        if on_bytes is None:
            remote.download(ref, odb, size=known.get(ref))
            return
        got = _Counter(on_bytes)
        token = ON_BYTES.set(got)
        try:
            remote.download(ref, odb, size=known.get(ref))
        finally:
            ON_BYTES.reset(token)
        got.finish(known.get(ref, 0))

    return run(sorted(refs, key=_order), get, jobs=jobs, translate=remote.error, advance=advance)


class _Counter:
    """Passes byte counts on, and at ``finish`` whatever the backend did not report."""

    def __init__(self, sink: Advance) -> None:
        self.sink = sink
        self.seen = 0

    def __call__(self, n: int) -> None:
        self.seen += n
        self.sink(n)

    def finish(self, size: int) -> None:
        if size > self.seen:
            self.sink(size - self.seen)


def delete(
    remote: Remote, refs: Sequence[ObjectRef], *, jobs: int, advance: Advance | None = None, batch: int = 1000,
) -> Outcome[ObjectRef]:
    """Delete objects, every manifest before any file."""
    outcome: Outcome[ObjectRef] = Outcome()
    for group in ([r for r in refs if r.is_dir], [r for r in refs if not r.is_dir]):
        if outcome.fatal is not None:
            outcome.not_attempted += group
            continue
        if remote.spec.backend.page_size is not None:  # object stores: batched requests
            chunks = [group[i:i + batch] for i in range(0, len(group), batch)]
            res = run(chunks, remote.delete, jobs=min(jobs, 4), translate=remote.error)
            for chunk in res.done:
                outcome.done += chunk
                if advance is not None:
                    advance(len(chunk))
            outcome.failed += [(r, e) for chunk, e in res.failed for r in chunk]
            outcome.not_attempted += [r for chunk in res.not_attempted for r in chunk]
        else:
            one = run(group, lambda r: remote.delete([r]), jobs=jobs, translate=remote.error, advance=advance)
            outcome.done += one.done
            outcome.failed += one.failed
            outcome.not_attempted += one.not_attempted
    return outcome


def _order(ref: ObjectRef) -> str:
    return ref.relpath
