"""Push and fetch on a packed remote (SPEC §4.1), on top of ``transfer.run``.

Upload: objects below the pack threshold are grouped into packs of at most ``pack_size``,
files first and directory manifests last, so a manifest shares a pack with (or comes after the
packs of) the files it lists: an index makes its objects appear together, so no manifest is
visible before its files. Packs without manifests are streamed a few at a time, then those with
manifests, then bigger objects as loose ones. Afterwards ``packs/indexes`` is rewritten for
remotes that cannot be listed.

Download: merged range reads, each object verified before it enters the cache.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Collection, Iterator, Mapping

from pipever.errors import CorruptObjectError, PvError, RemoteError
from pipever.objects import bulk
from pipever.objects.odb import ChangedWhileReadingError, ObjectDB, ObjectRef
from pipever.objects.oid import Oid
from pipever.remote import chunkfetch, chunking, packfmt, packs
from pipever.concurrency import process_map
from pipever.remote.base import Remote
from pipever.remote.local import LocalRemote
from pipever.remote.engine import Advance, Outcome, run, split_ready

PACK_JOBS = 2  # packs streamed at once (each holds one upload part in memory on object stores)
SPLIT_FROM = 8 << 20  # bytes of small files per pack from which a push splits them into PACK_JOBS packs


def upload(
    remote: Remote, odb: ObjectDB, files: Collection[ObjectRef], manifests: Mapping[ObjectRef, Collection[ObjectRef]],
    *, present: Collection[ObjectRef], jobs: int, advance: Advance | None = None,
    on_bytes: Advance | None = None, known_sizes: Mapping[ObjectRef, int] | None = None,
) -> Outcome[ObjectRef]:
    """Small objects into packs, big files as chunks (or whole where chunking is unavailable),
    manifests once their files are stored. ``advance`` counts objects and ``on_bytes`` their
    bytes, each as its pack (or chunk list) is stored. ``known_sizes``: the objects' sizes, when
    the caller has just read them."""
    outcome: Outcome[ObjectRef] = Outcome()
    sizes: dict[ObjectRef, int] = {}
    known = known_sizes or {}
    for ref in sorted(set(files) | set(manifests), key=_order):
        if ref in known:
            sizes[ref] = known[ref]
            continue
        try:
            sizes[ref] = os.stat(odb.strpath(ref.oid, is_dir=ref.is_dir)).st_size
        except OSError as exc:
            outcome.failed.append((ref, remote.error(exc)))
    if not sizes:
        return outcome
    try:
        remote.packs.ensure_format()
    except Exception as exc:  # noqa: BLE001 - a remote that cannot take pv-remote.yaml takes nothing
        err = remote.error(exc)
        outcome.failed += [(r, err) for r in sizes]
        return outcome
    threshold = remote.pack_threshold
    small_files = [(r, n) for r, n in sizes.items() if not r.is_dir and n < threshold]
    small_dirs = [(r, n) for r, n in sizes.items() if r.is_dir and n < threshold]
    big_files = [r for r, n in sizes.items() if not r.is_dir and n >= threshold]
    big_dirs = [r for r, n in sizes.items() if r.is_dir and n >= threshold]
    file_bytes = sum(n for _, n in small_files)
    if file_bytes >= PACK_JOBS * SPLIT_FROM:
        # many files: packs of even size streamed side by side, the manifests in a pack after
        # them (a small push keeps them in the last pack of files: one pack, fewer requests)
        share = -(-file_bytes // max(PACK_JOBS, -(-file_bytes // remote.pack_size)))
        groups = packfmt.group_into_packs(small_files, share) + packfmt.group_into_packs(small_dirs, remote.pack_size)
    else:
        groups = packfmt.group_into_packs(small_files + small_dirs, remote.pack_size)
    plain = [g for g in groups if not any(r.is_dir for r, _ in g)]
    with_dirs = [g for g in groups if any(r.is_dir for r, _ in g)]

    rotten: set[ObjectRef] = set()
    lock = threading.Lock()

    def put_pack(group: list[tuple[ObjectRef, int]]) -> None:
        try:
            remote.packs.write_pack([(r, odb.strpath(r.oid, is_dir=r.is_dir), n) for r, n in group])
        except ChangedWhileReadingError:
            # the stream verifies each object it packs, and stopped at one that no longer hashes
            # to its name (before the index was written): find those, pack the rest
            bad = {r for r, _ in group if not odb.verify(r.oid, is_dir=r.is_dir)}
            if not bad:
                raise
            with lock:
                rotten.update(bad)
            rest = [(r, odb.strpath(r.oid, is_dir=r.is_dir), n) for r, n in group if r not in bad]
            if rest:
                remote.packs.write_pack(rest)

    def record(res: Outcome[list[tuple[ObjectRef, int]]]) -> None:
        for group in res.done:
            outcome.done.extend(r for r, _ in group if r not in rotten)
            outcome.failed.extend((r, CorruptObjectError(str(r.oid))) for r, _ in group if r in rotten)
            if advance is not None:
                advance(len(group))
            if on_bytes is not None:
                on_bytes(sum(sizes[r] for r, _ in group))
        outcome.failed.extend((r, e) for group, e in res.failed for r, _ in group)
        outcome.not_attempted.extend(r for group in res.not_attempted for r, _ in group)

    record(run(plain, put_pack, jobs=min(jobs, PACK_JOBS), translate=remote.error))
    if big_files and outcome.fatal is None and chunking.available():
        lists = _put_chunks(remote, odb, big_files, outcome, jobs)
        list_groups = packfmt.group_into_packs([(r, len(data)) for r, data in lists], remote.pack_size)
        by_ref = dict(lists)

        def put_lists(group: list[tuple[ObjectRef, int]]) -> None:
            remote.packs.write_items([packs.Item(r, by_ref[r], n, kind=packfmt.CHUNK_LIST) for r, n in group])

        record(run(list_groups, put_lists, jobs=1, translate=remote.error))
        big_files = []
    def put_whole(refs: list[ObjectRef]) -> None:
        """Objects as whole files (big files where chunking is not available, big manifests)."""
        def put(r: ObjectRef) -> None:
            remote.upload(r, odb.path(r.oid, is_dir=r.is_dir))
            if on_bytes is not None:
                on_bytes(sizes[r])

        res = run(refs, put, jobs=jobs, translate=remote.error, advance=advance)
        outcome.done += res.done
        outcome.failed += res.failed
        outcome.not_attempted += res.not_attempted

    if big_files and outcome.fatal is None:
        put_whole(big_files)
    else:
        outcome.not_attempted += big_files
    for group in with_dirs:  # in order: a manifest's files are on the remote or in its own pack
        if outcome.fatal is not None:
            outcome.not_attempted.extend(r for r, _ in group)
            continue
        on_remote = set(present) | set(outcome.done) | {r for r, _ in group if not r.is_dir}
        ready, blocked = split_ready(remote, {r: manifests.get(r, ()) for r, _ in group if r.is_dir}, on_remote)
        outcome.failed += blocked
        keep = [(r, n) for r, n in group if not r.is_dir or r in ready]
        if keep:
            record(run([keep], put_pack, jobs=1, translate=remote.error))
    if big_dirs:
        ready, blocked = split_ready(remote, {r: manifests.get(r, ()) for r in big_dirs},
                                     set(present) | set(outcome.done))
        outcome.failed += blocked
        put_whole(ready)
    if outcome.done:
        # the packs are stored and listable: a failure here only delays http readers until the
        # next push or gc --cloud rewrites the list
        with contextlib.suppress(PvError, OSError):
            remote.packs.publish_index_list()
    return outcome


def _put_chunks(remote: Remote, odb: ObjectDB, files: list[ObjectRef], outcome: Outcome[ObjectRef],
                jobs: int) -> list[tuple[ObjectRef, bytes]]:
    """Cut big files into chunks and put the chunks the remote lacks into packs; the chunk lists
    of the files whose chunks are all stored (the others go to ``outcome.failed``). Packs are
    sent as soon as they are full, while the rest is still being cut."""
    store = remote.packs
    params = (store.format or packfmt.RemoteFormat()).chunking
    local = chunkfetch.local_chunks(store, odb)
    lists: dict[ObjectRef, list[chunking.Chunk]] = {}
    queued: dict[Oid, ObjectRef] = {}  # chunk -> the file it is taken from
    limit = remote.pack_size

    def grouped() -> Iterator[list[packs.Item]]:
        group: list[packs.Item] = []
        size = 0
        for ref in files:
            path = odb.path(ref.oid)
            chunks: list[chunking.Chunk] = []
            try:
                for c in local.iter_chunks_of(ref.oid, path, params):
                    chunks.append(c)
                    if c.oid in queued or not (store.resend_chunks or not store.has_chunk(c.oid)):
                        continue
                    queued[c.oid] = ref
                    if group and size + c.length > limit:  # as packfmt.group_into_packs
                        yield group
                        group, size = [], 0
                    group.append(packs.Item(ObjectRef(c.oid, False), path, c.length, c.offset, packfmt.CHUNK))
                    size += c.length
            except OSError as exc:
                outcome.failed.append((ref, remote.error(exc)))
                continue
            lists[ref] = chunks
        if group:
            yield group

    res = run(grouped(), remote.packs.write_items, jobs=min(jobs, PACK_JOBS), translate=remote.error)
    failed_files: dict[ObjectRef, PvError] = {}
    for group, err in res.failed:
        for item in group:
            failed_files.setdefault(queued[item.ref.oid], err)
    for group in res.not_attempted:
        for item in group:
            failed_files.setdefault(queued[item.ref.oid], RemoteError("not attempted after an earlier error"))
    outcome.failed += list(failed_files.items())
    return [(ref, chunking.encode(chunks)) for ref, chunks in lists.items() if ref not in failed_files]


def download(
    remote: Remote, odb: ObjectDB, refs: Collection[ObjectRef], *, jobs: int, advance: Advance | None = None,
) -> Outcome[ObjectRef]:
    """Objects the remote's packs hold, by merged range reads (at most ``packs.READ_JOBS`` at
    once, each at most ``packs.MAX_BLOCK`` bytes)."""
    store = remote.packs
    outcome: Outcome[ObjectRef] = Outcome()
    results: list[tuple[ObjectRef, PvError | None]] = []
    lock = threading.Lock()

    def read(item: packs.Read) -> None:
        got = store.apply_read(item, odb)
        with lock:
            results.extend(got)
        if advance is not None:
            advance(len(got))

    reads = store.plan_reads(refs)
    many = len(refs) >= bulk.FORK_MIN
    # into a cache lacking whole shards (a fresh clone's): built aside, renamed into place
    with odb.bulk_writes() if many else contextlib.nullcontext():
        if many and isinstance(remote, LocalRemote):
            reads = _insert_forked(store, odb, reads, results, advance)
        res = run(reads, read, jobs=max(1, min(jobs, packs.READ_JOBS)), translate=remote.error)
    for ref, err in results:
        if err is None:
            outcome.done.append(ref)
        else:
            outcome.failed.append((ref, err))
    outcome.failed += [(e.ref, err) for item, err in res.failed for e in item.objects]
    outcome.not_attempted += [e.ref for item in res.not_attempted for e in item.objects]
    return outcome


def _insert_forked(
    store: packs.PackStore, odb: ObjectDB, reads: list[packs.Read], results: list[tuple[ObjectRef, PvError | None]],
    advance: Advance | None,
) -> list[packs.Read]:
    """A local remote's packs are files: forked workers read the merged ranges, verify each
    object and write it into the cache (what costs there is creating 20k files; threads would
    pass the GIL around every call). Returns the reads to do here: all of them where this
    cannot fork, else those with a failure, which are redone to report it as usual."""

    def insert(read: packs.Read) -> int:  # -1: redo it here, where errors keep their messages
        try:
            got = store.apply_read(read, odb)
        except Exception:  # noqa: BLE001 - redone by the thread path, which reports it
            return -1
        return -1 if any(err is not None for _, err in got) else len(got)

    if logging.getLogger("pipever").isEnabledFor(logging.DEBUG):
        return reads  # -v logs each range read: that stays in this process
    done = process_map(insert, reads, procs=bulk.processes(),
                       on_result=lambda i, n: advance(n) if advance is not None and n > 0 else None)
    if done is None:
        return reads
    for item, n in zip(reads, done):
        if n >= 0:
            results.extend((e.ref, None) for e in item.objects)
    return [item for item, n in zip(reads, done) if n < 0]


def _order(ref: ObjectRef) -> str:
    return ref.relpath
