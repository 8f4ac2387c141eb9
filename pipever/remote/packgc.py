"""``gc --cloud`` for packs: repack mostly dead packs, delete old ones only after a grace period.

A pack whose live share (bytes of kept objects / all its bytes) is below a half has its live
objects copied (verified) into a new pack; a pack with nothing live, or one just repacked, is
marked for deletion (``packs/<id>.drop``). A marked pack no longer counts when a push asks
what the remote has, so pushes that start later upload those objects again. It is deleted --
index first, then pack -- only once the marker is older than the grace period (a push that
trusted the pack before the marker has finished by then) and every object of it that is in use
is in another, unmarked pack (else those are copied out first). Leftovers of killed uploads
(a pack without index, temp files) older than the grace period are deleted too.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field

from pipever.objects.odb import ObjectRef
from pipever.objects.oid import Oid
from pipever.remote import packfmt as pf
from pipever.errors import CorruptObjectError
from pipever.objects.hashing import hash_bytes
from pipever.remote.packs import MAX_BLOCK, MAX_GAP, Pack, PackStore, good

DEFAULT_GRACE = 24 * 3600.0
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> float:
    """``24h``, ``30m``, ``2d``, ``90`` (seconds), ``0``; ValueError otherwise."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text.lower())
    if m is None:
        raise ValueError(f"'{text}' is no duration (e.g. 24h, 30m, 2d, 0)")
    return float(m.group(1)) * _UNITS.get(m.group(2) or "s", 1)


@dataclass(frozen=True)
class PackGcPlan:
    repack: tuple[str, ...] = ()  # live share < 1/2: copy live objects out, then mark
    mark: tuple[str, ...] = ()  # nothing live: mark for deletion
    delete: tuple[str, ...] = ()  # marked, grace over: delete (after copying out what is in use)
    leftovers: tuple[str, ...] = ()  # names under packs/ left by killed uploads, grace over
    dead_objects: int = 0  # objects that leave the remote once the marked packs are deleted
    dead_bytes: int = 0
    live_objects: int = 0
    grace: float = DEFAULT_GRACE

    @property
    def empty(self) -> bool:
        return not (self.repack or self.mark or self.delete or self.leftovers)


@dataclass
class PackGcResult:
    repacked: list[str] = field(default_factory=list)
    marked: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    new_packs: list[str] = field(default_factory=list)


def plan(store: PackStore, keep: Collection[ObjectRef], *, grace: float = DEFAULT_GRACE,
         now: float | None = None) -> PackGcPlan:
    store.load(force=True)
    now = time.time() if now is None else now
    is_live = live_test(store, keep)
    repack, mark, delete = [], [], []
    dead_objects = dead_bytes = live_objects = 0
    for p in sorted(store.packs.values(), key=lambda p: p.id):
        live = [e for e in p.entries if is_live(e)]
        live_bytes = sum(e.length for e in live)
        if p.dropped is None:
            live_objects += len(live)
            if not live:
                mark.append(p.id)
            elif live_bytes * 2 < p.size:
                repack.append(p.id)
            else:
                continue
            dead_objects += len(p.entries) - len(live)
            dead_bytes += p.size - live_bytes
        elif now - p.dropped >= grace:
            delete.append(p.id)
    leftovers = _leftovers(store, now, grace)
    return PackGcPlan(tuple(repack), tuple(mark), tuple(delete), tuple(leftovers), dead_objects, dead_bytes,
                      live_objects, grace)


def _leftovers(store: PackStore, now: float, grace: float) -> list[str]:
    names = store.remote.list_dir(pf.PACKS)
    out = []
    for name, mtime in names.items():
        stem, _, ext = name.rpartition(".")
        old = mtime is not None and now - mtime >= grace
        if ext == "pack" and pf.is_pack_id(stem) and f"{stem}.idx" not in names and old:
            out.append(name)
        elif name.startswith(".") and name.endswith(".pvtmp") and old:
            out.append(name)
    return sorted(out)


def apply(store: PackStore, gc_plan: PackGcPlan, keep: Collection[ObjectRef]) -> PackGcResult:
    """Carry out ``gc_plan``; ``keep`` is read again here, so objects that came into use since
    the plan are kept."""
    result = PackGcResult()
    store.load(force=True)
    is_live = live_test(store, keep)
    for pid in gc_plan.repack:
        p = store.packs.get(pid)
        if p is None or p.dropped is not None:
            continue
        result.new_packs += _copy_out(store, p, [e for e in p.entries if is_live(e)])
        result.repacked.append(pid)
    for pid in (*gc_plan.repack, *gc_plan.mark):
        p = store.packs.get(pid)
        if p is None or p.dropped is not None:
            continue
        if pid in gc_plan.mark and any(is_live(e) for e in p.entries):  # in use again
            continue
        store.mark_dropped(pid)
        p.dropped = time.time()
        result.marked.append(pid)
    deletable = list(gc_plan.delete) + (result.marked if gc_plan.grace <= 0 else [])
    store._reindex()
    for pid in deletable:
        p = store.packs.get(pid)
        if p is None:
            continue
        needed = [e for e in p.entries if is_live(e) and not _elsewhere(store, e, pid)]
        if needed:  # came back into use, or nothing else holds it: copy it out first
            result.new_packs += _copy_out(store, p, needed)
        store.delete_pack(pid)
        result.deleted.append(pid)
    for name in gc_plan.leftovers:
        store.remote.remove_file(f"{pf.PACKS}/{name}")
    if result.new_packs or result.deleted:
        store.publish_index_list()
    return result


def _elsewhere(store: PackStore, e: pf.Entry, pid: str) -> bool:
    if e.kind == pf.CHUNK:
        locs = store.chunk_locations(e.ref.oid)
    elif e.kind == pf.CHUNK_LIST:
        locs = store.list_locations(e.ref.oid)
    else:
        locs = store.locations(e.ref)
    return any(loc.pack != pid and store.packs[loc.pack].dropped is None for loc in locs)


def live_test(store: PackStore, keep: Collection[ObjectRef]) -> Callable[[pf.Entry], bool]:
    """Whether a pack entry is in use: a kept file or manifest, the chunk list of a kept file,
    or a chunk that a kept file's chunk list names (lists are read from the remote)."""
    kept = keep if isinstance(keep, (set, frozenset)) else set(keep)
    chunks: set[Oid] = set()
    for ref in kept:
        if not ref.is_dir and store.list_locations(ref.oid):
            chunks.update(c.oid for c in store.read_chunk_list(ref.oid))

    def is_live(e: pf.Entry) -> bool:
        if e.kind == pf.CHUNK:
            return e.ref.oid in chunks
        if e.kind == pf.CHUNK_LIST:
            return ObjectRef(e.ref.oid, False) in kept
        return e.ref in kept

    return is_live


def _copy_out(store: PackStore, p: Pack, entries: list[pf.Entry]) -> list[str]:
    """Copy ``entries`` of pack ``p`` (each verified where it can be: files, manifests, chunks)
    into new packs; their ids."""
    if not entries:
        return []
    groups = pf.group_into_packs([(e.ref, e.length) for e in entries], store.remote.pack_size)
    new = []
    at = 0
    for group in groups:
        part = entries[at:at + len(group)]
        at += len(group)
        new.append(store.write_pack_from(part, _verified(store, p, part)))
    return new


def _verified(store: PackStore, p: Pack, entries: list[pf.Entry]) -> Iterator[bytes]:
    """The entries' bytes from pack ``p`` in order, read by merged ranges; a bad file or
    manifest is read from another pack, and with none (or a bad chunk) the copy stops
    (CorruptObjectError) before its index is written."""
    from fsspec.utils import merge_offset_ranges

    ordered = sorted(entries, key=lambda e: e.offset)
    if [e.offset for e in ordered] != [e.offset for e in entries]:
        raise ValueError("entries must be in pack order")
    _, starts, ends = merge_offset_ranges([p.id] * len(entries), [e.offset for e in entries],
                                          [e.offset + e.length for e in entries], max_gap=MAX_GAP,
                                          max_block=MAX_BLOCK, sort=False)
    i = 0
    for start, end in zip(starts, ends):
        assert end is not None
        data = store.remote.read_range(f"{pf.PACKS}/{p.id}.pack", int(start), int(end))
        while i < len(entries) and entries[i].offset + entries[i].length <= end:
            e = entries[i]
            i += 1
            chunk = data[e.offset - int(start):e.offset - int(start) + e.length]
            if e.kind == pf.CHUNK_LIST:
                yield chunk
            elif e.kind == pf.CHUNK:
                if hash_bytes(chunk) != e.ref.oid:
                    raise CorruptObjectError(str(e.ref.oid), where=f"remote '{store.remote.name}' (pack '{pf.PACKS}/{p.id}.pack')")
                yield chunk
            elif good(e.ref, chunk):
                yield chunk
            else:
                yield store.read_object(e.ref, skip={p.id}, first_bad=p.id)
