"""Many object transfers at once, losing nothing when some fail.

``run`` maps an action over items on a thread pool (fsspec's async backends multiplex the
threads' calls on their event loop). A failed item does not stop the others; a fatal remote
error (unreachable, access denied, ...) stops new items from starting, and they are reported
as not attempted. ``upload`` sends files first and a directory manifest only once every file it
lists is on the remote, so a remote never holds a manifest whose files are missing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from pipever.objects.odb import ObjectDB, ObjectRef
from pipever.remote import chunkfetch, packtransfer
from pipever.remote.base import ON_BYTES, Remote
from pipever.remote.engine import BYTES_PROGRESS_MIN, Advance, Outcome, run, split_ready

__all__ = ["BYTES_PROGRESS_MIN", "Advance", "Outcome", "delete", "download", "run", "split_ready", "upload"]

def upload(
    remote: Remote, odb: ObjectDB, files: Collection[ObjectRef], manifests: Mapping[ObjectRef, Collection[ObjectRef]],
    *, present: Collection[ObjectRef], jobs: int, advance: Advance | None = None,
    on_bytes: Advance | None = None, known_sizes: Mapping[ObjectRef, int] | None = None,
) -> Outcome[ObjectRef]:
    """Upload ``files``, then each manifest whose listed files are all on the remote by then
    (``present``: what the remote already had). ``advance`` counts objects, ``on_bytes`` bytes
    (as the backend sends them, the rest of an object when it is done). A packed remote:
    ``packtransfer.upload`` (bytes as each pack or chunk list is stored; ``known_sizes`` spares
    it a stat per object)."""
    if remote.packed:
        return packtransfer.upload(remote, odb, files, manifests, present=present, jobs=jobs, advance=advance,
                                   on_bytes=on_bytes, known_sizes=known_sizes)

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
    ready, blocked = split_ready(remote, manifests, set(present) | set(outcome.done))
    outcome.failed += blocked
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
            remote.download_loose(ref, odb, size=known.get(ref))
            return
        got = _Counter(on_bytes)
        token = ON_BYTES.set(got)
        try:
            remote.download_loose(ref, odb, size=known.get(ref))
        finally:
            ON_BYTES.reset(token)
        got.finish(known.get(ref, 0))

    store = remote.packs
    packed = [r for r in refs if store.locations(r)]
    in_packs = set(packed)  # (built once: a pull of 20k objects was quadratic here)
    chunked = sorted((r for r in refs if r not in in_packs and store.chunked(r)), key=_order)
    loose = sorted(set(refs) - in_packs - set(chunked), key=_order)
    outcome = run(loose, get, jobs=jobs, translate=remote.error, advance=advance)
    if chunked:  # one file at a time: each reads its missing chunks concurrently
        def rebuild(r: ObjectRef) -> None:
            chunkfetch.download_one(store, r, odb)
            if on_bytes is not None:
                on_bytes(known.get(r, 0))

        more = run(chunked, rebuild, jobs=1, translate=remote.error, advance=advance)
        outcome.done += more.done
        outcome.failed += more.failed
        outcome.not_attempted += more.not_attempted
    if packed:
        more = packtransfer.download(remote, odb, packed, jobs=jobs, advance=advance)
        outcome.done += more.done
        outcome.failed += more.failed
        outcome.not_attempted += more.not_attempted
    return outcome


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
