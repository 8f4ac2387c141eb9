"""Rebuild a chunked big file into the cache (SPEC §4.1): chunks that cached versions already
hold are read locally (``chunking.LocalChunks``), only the missing ones are fetched from packs by
merged range reads; every chunk is hashed, and the rebuilt file is hashed before it enters the
cache. Memory stays at one window of chunks (``WINDOW`` bytes)."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

from pipever.errors import CorruptObjectError, PvError
from pipever.objects.hashing import hash_bytes
from pipever.objects.odb import ObjectDB, ObjectRef
from pipever.objects.oid import Oid
from pipever.remote import chunking, packfmt as pf
from pipever.remote.host import map_concurrently
from pipever.remote.packs import MAX_BLOCK, MAX_GAP, READ_JOBS, PackStore

WINDOW = 32 << 20


class Stats:
    """Bytes a run read from remotes for chunked files (for benchmarks and tests)."""

    downloaded = 0
    reused = 0
    lock = threading.Lock()


def local_chunks(store: PackStore, odb: ObjectDB) -> chunking.LocalChunks:
    root = store.remote.chunk_dir or odb.root.parent / "tmp" / "chunks"
    return chunking.LocalChunks(Path(root), lambda oid: odb.path(oid))


def fetch(store: PackStore, ref: ObjectRef, odb: ObjectDB) -> None:
    chunks = store.read_chunk_list(ref.oid)
    local = local_chunks(store, odb)
    tmp = odb.tmp_path_for(ref.oid)
    try:
        with open(tmp, "wb") as out:
            for window in chunking.iter_windows(chunks, WINDOW):
                have: dict[Oid, bytes] = {}
                for c in window:
                    if c.oid not in have:
                        data = local.read(c)
                        if data is not None:
                            have[c.oid] = data
                missing = [c for c in window if c.oid not in have]
                have.update(fetch_chunks(store, missing))
                for c in window:
                    out.write(have[c.oid])
                    if c.oid not in {m.oid for m in missing}:
                        with Stats.lock:
                            Stats.reused += c.length
        odb.insert_verified(tmp, ref.oid)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    local.record(ref.oid, chunks)


def plan_chunk_reads(wanted: dict[Oid, pf.Location], *, max_gap: int = MAX_GAP, max_block: int = MAX_BLOCK,
                     ) -> list[tuple[str, int, int, list[tuple[Oid, pf.Location]]]]:
    """Merged range reads ``(pack, start, end, chunks inside)`` for chunks at ``wanted``
    locations: neighbours in one pack closer than ``max_gap`` share a request of at most
    ``max_block`` bytes (``fsspec.utils.merge_offset_ranges``)."""
    from fsspec.utils import merge_offset_ranges

    by_pack: dict[str, list[tuple[Oid, pf.Location]]] = {}
    for oid, loc in wanted.items():
        by_pack.setdefault(loc.pack, []).append((oid, loc))
    reads: list[tuple[str, int, int, list[tuple[Oid, pf.Location]]]] = []
    for pid in sorted(by_pack):
        items = sorted(by_pack[pid], key=lambda x: x[1].offset)
        _, starts, ends = merge_offset_ranges([pid] * len(items), [l.offset for _, l in items],
                                              [l.offset + l.length for _, l in items], max_gap=max_gap,
                                              max_block=max_block, sort=False)
        i = 0
        for start, end in zip(starts, ends):
            assert end is not None
            inside = []
            while i < len(items) and items[i][1].offset + items[i][1].length <= end:
                inside.append(items[i])
                i += 1
            reads.append((pid, int(start), int(end), inside))
    return reads


def fetch_chunks(store: PackStore, chunks: list[chunking.Chunk]) -> dict[Oid, bytes]:
    """Chunks by merged range reads, each verified (another pack's copy on a bad one);
    CorruptObjectError naming the chunk and its pack when no copy is good."""
    wanted: dict[Oid, pf.Location] = {}
    for c in chunks:
        if c.oid in wanted:
            continue
        locs = store.chunk_locations(c.oid)
        if not locs:
            raise CorruptObjectError(f"{c.oid} (a chunk)", where=f"remote '{store.remote.name}': no pack holds it")
        wanted[c.oid] = locs[0]
    reads = plan_chunk_reads(wanted)

    def read(r: tuple[str, int, int, list[tuple[Oid, pf.Location]]]) -> dict[Oid, bytes]:
        pid, start, end, inside = r
        data = store.remote.read_range(f"{pf.PACKS}/{pid}.pack", start, end)
        with Stats.lock:
            Stats.downloaded += len(data)
        got = {}
        for oid, loc in inside:
            piece = data[loc.offset - start:loc.offset - start + loc.length]
            if hash_bytes(piece) != oid:
                piece = _other_copy(store, oid, pid)
            got[oid] = piece
        return got

    out: dict[Oid, bytes] = {}
    for got in map_concurrently(read, reads, jobs=READ_JOBS):
        out.update(got)
    return out


def _other_copy(store: PackStore, oid: Oid, bad: str) -> bytes:
    for loc in store.chunk_locations(oid):
        if loc.pack == bad:
            continue
        try:
            data = store.remote.read_range(f"{pf.PACKS}/{loc.pack}.pack", loc.offset, loc.offset + loc.length)
        except PvError:
            continue
        if hash_bytes(data) == oid:
            return data
    raise CorruptObjectError(f"{oid} (a chunk)", where=f"remote '{store.remote.name}' (pack '{pf.PACKS}/{bad}.pack')")


def verify(store: PackStore, ref: ObjectRef) -> str | None:
    """Check a chunked file on the remote: its chunk list reads and every chunk it names hashes
    to its oid (read by merged ranges, a window at a time); what is wrong, or None."""
    try:
        chunks = store.read_chunk_list(ref.oid)
        for window in chunking.iter_windows(chunks, WINDOW):
            fetch_chunks(store, window)
    except CorruptObjectError as exc:
        return exc.message
    return None


def download_one(store: PackStore, ref: ObjectRef, odb: ObjectDB) -> bool:
    """Put ``ref`` into the cache from a pack, or rebuilt from its chunks; False when no pack
    lists it."""
    if store.chunked(ref):
        fetch(store, ref, odb)
        return True
    return store.download_packed(ref, odb)
