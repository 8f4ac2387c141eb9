"""``PackStore``: the packs and indexes of one remote (SPEC §4.1).

Reading: one listing of ``packs/`` (or, on remotes that cannot list, the ``packs/indexes``
file) names the indexes; each is read once, checked against its name (the BLAKE3 of its bytes)
and kept under ``.pv/tmp/remotes/<remote>/`` so later runs read only new ones. Objects are read
by byte ranges, neighbouring ranges merged first, and each object is hashed before it may enter
the cache; a bad copy makes the reader try the next index that lists the object.

Writing: a pack's index is computed first (sizes come from the cache), the pack is streamed
under the index's id, and the index is written only after the pack is complete, so an index
never names a missing pack. Packs and indexes are never rewritten. A pack marked ``<id>.drop``
by ``gc --cloud`` is still read, but no longer counts for existence, so a push re-uploads what
only that pack holds.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipever import fsutil, yamlio
from pipever.errors import CorruptObjectError, ManifestError, PvError, RemoteError
from pipever.objects import bulk
from pipever.objects import manifest as mf
from pipever.objects.hashing import hash_bytes
from pipever.objects.odb import ChangedWhileReadingError, ObjectDB, ObjectRef
from pipever.objects.oid import Oid
from pipever.remote import packfmt as pf
from pipever.remote.host import PackHost, map_concurrently


MAX_GAP = 256 << 10  # unneeded bytes read to merge two ranges into one request
MAX_BLOCK = 4 << 20  # largest merged range (bytes held in memory per concurrent read)
READ_JOBS = 4  # concurrent range reads (bounds memory: READ_JOBS * MAX_BLOCK)
STREAM_PART = 5 << 20  # upload part of a streamed pack on object stores (the client buffers a few)


class CorruptIndexError(RemoteError):
    def __init__(self, remote: str, rel: str, why: str) -> None:
        super().__init__(
            f"pack index '{rel}' on remote '{remote}' is corrupt ({why})",
            hint=f"run 'pv fsck -r {remote} --repair' (it re-uploads good local copies and removes the bad index)",
        )
        self.rel = rel


@dataclass
class Pack:
    id: str
    entries: list[pf.Entry]
    mtime: float | None = None  # of the index, as the remote lists it
    dropped: float | None = None  # when gc --cloud marked it for deletion

    @property
    def size(self) -> int:
        return sum(e.length for e in self.entries)


@dataclass(frozen=True)
class Read:
    """One merged range request: bytes ``start..end`` of a pack and the objects inside."""

    pack: str
    start: int
    end: int
    objects: tuple[pf.Entry, ...]


@dataclass
class _Listing:
    top: dict[str, float | None] = field(default_factory=dict)
    packs: dict[str, float | None] = field(default_factory=dict)


class PackStore:
    def __init__(self, remote: PackHost, cache_dir: Path | None) -> None:
        self.remote = remote
        self.cache_dir = cache_dir
        self.packs: dict[str, Pack] = {}
        self.bad_indexes: list[str] = []  # rel paths (tolerant loads only)
        self.may_have_loose = True
        self.format: pf.RemoteFormat | None = None
        self._where: dict[ObjectRef, list[pf.Location]] = {}
        self._chunks: dict[Oid, list[pf.Location]] = {}
        self._lists: dict[Oid, list[pf.Location]] = {}
        self._loaded = False
        self._lock = threading.RLock()
        self._format_checked = False
        self.resend_chunks = False  # repair: upload every chunk again, even ones the remote lists

    @property
    def listable(self) -> bool:
        return bool(self.remote.spec.backend.protocol != "http")

    # -- loading -------------------------------------------------------------------------------
    def load(self, *, tolerant: bool = False, force: bool = False, fresh: bool = False) -> None:
        """Read which packs the remote holds (once; ``force`` re-lists). A corrupt index raises
        CorruptIndexError naming it, or with ``tolerant`` is noted in ``bad_indexes``. ``fresh``
        reads every index from the remote, not from the local copies (``fsck -r``)."""
        with self._lock:
            if self._loaded and not force:
                return
            listing = self._list()
            self.may_have_loose = (not self.listable) or "blake3" in listing.top
            if pf.FORMAT_FILE in listing.top or not self.listable:
                self._read_format()
            ids = sorted(n[:-4] for n in listing.packs if n.endswith(".idx") and pf.is_pack_id(n[:-4]))
            if self.listable:  # an index is written after its pack: a lone index is being deleted
                ids = [i for i in ids if f"{i}.pack" in listing.packs]
            self.bad_indexes = []
            packs: dict[str, Pack] = {}

            loaded = map_concurrently(lambda i: self._load_index(i, tolerant, fresh), ids, jobs=min(8, self.remote.jobs))
            for pid, entries in zip(ids, loaded):
                if entries is None:
                    continue
                marker = f"{pid}.drop"
                # a marker of unknown age counts as new (its pack is kept)
                dropped = (listing.packs[marker] or time.time()) if marker in listing.packs else None
                packs[pid] = Pack(pid, entries, listing.packs.get(f"{pid}.idx"), dropped)
            self.packs = packs
            self._reindex()
            self._loaded = True

    def _list(self) -> _Listing:
        if not self.listable:
            try:
                text = self.remote.read_file(pf.INDEX_LIST).decode("utf-8", errors="replace")
            except PvError as exc:
                from pipever.remote.failures import ObjectMissingError

                if isinstance(exc, ObjectMissingError):
                    return _Listing()
                raise
            ids = pf.parse_index_list(text)
            return _Listing({}, {f"{i}.idx": None for i in ids})
        top = self.remote.list_dir("")
        packs = self.remote.list_dir(pf.PACKS) if pf.PACKS in top else {}
        return _Listing(top, packs)

    def _read_format(self) -> None:
        cached = self.cache_dir / pf.FORMAT_FILE if self.cache_dir is not None else None
        try:
            text = cached.read_bytes() if cached is not None and cached.is_file() else None
        except OSError:
            text = None
        try:
            text = text or self.remote.read_file(pf.FORMAT_FILE)
        except PvError:
            if self.listable:
                raise
            return  # http remote without one: an old loose remote
        where = f"{self.remote.display}/{pf.FORMAT_FILE}"
        try:
            fmt = pf.format_from_data(yamlio.load(text, where))
        except (PvError, ValueError) as exc:
            why = exc.message if isinstance(exc, PvError) else str(exc)
            raise RemoteError(f"'{pf.FORMAT_FILE}' of remote '{self.remote.name}' is not valid: {why}",
                              hint="restore it from another copy of the remote, or remove it if the remote is empty") from exc
        if fmt.version > pf.FORMAT_VERSION:
            raise RemoteError(
                f"remote '{self.remote.name}' uses storage format {fmt.version}, newer than this pipever "
                f"understands ({pf.FORMAT_VERSION})", hint="upgrade pipever: pip install -U pipever")
        self.format = fmt
        self._format_checked = True
        if cached is not None:
            with contextlib.suppress(OSError, PvError):
                cached.parent.mkdir(parents=True, exist_ok=True)
                fsutil.atomic_write(cached, text)

    def _cached(self, pid: str) -> Path | None:
        return self.cache_dir / f"{pid}.idx" if self.cache_dir is not None else None

    def _load_index(self, pid: str, tolerant: bool, fresh: bool = False) -> list[pf.Entry] | None:
        rel = f"{pf.PACKS}/{pid}.idx"
        cached = self._cached(pid)
        if cached is not None and not fresh:
            with contextlib.suppress(OSError):
                data = cached.read_bytes()
                if pf.index_id(data) == pid:
                    with contextlib.suppress(pf.IndexFormatError):
                        return pf.decode_index(data)
        try:
            data = self.remote.read_file(rel)
        except PvError as exc:
            from pipever.remote.failures import ObjectMissingError

            if isinstance(exc, ObjectMissingError):
                return None  # deleted by gc --cloud since the listing
            raise
        try:
            if pf.index_id(data) != pid:
                raise pf.IndexFormatError("its content does not match its name")
            entries = pf.decode_index(data)
        except pf.IndexFormatError as exc:
            if tolerant:
                with self._lock:
                    self.bad_indexes.append(rel)
                return None
            raise CorruptIndexError(self.remote.name, rel, str(exc)) from None
        self._remember(pid, data)
        return entries

    def _remember(self, pid: str, data: bytes) -> None:
        cached = self._cached(pid)
        if cached is None:
            return
        with contextlib.suppress(OSError, PvError):
            cached.parent.mkdir(parents=True, exist_ok=True)
            fsutil.atomic_write(cached, data)

    def _reindex(self) -> None:
        where: dict[ObjectRef, list[pf.Location]] = {}
        chunks: dict[Oid, list[pf.Location]] = {}
        lists: dict[Oid, list[pf.Location]] = {}
        # live packs first, newest first; packs marked for deletion last (still readable)
        order = sorted(self.packs.values(), key=lambda p: (p.dropped is not None, -(p.mtime or 0.0), p.id))
        for p in order:
            for e in p.entries:
                loc = pf.Location(p.id, e.offset, e.length)
                if e.kind == pf.CHUNK:
                    chunks.setdefault(e.ref.oid, []).append(loc)
                elif e.kind == pf.CHUNK_LIST:
                    lists.setdefault(e.ref.oid, []).append(loc)
                else:
                    where.setdefault(e.ref, []).append(loc)
        self._where, self._chunks, self._lists = where, chunks, lists

    def _add_entries(self, pid: str, entries: Sequence[pf.Entry]) -> None:
        with self._lock:
            for e in entries:
                loc = pf.Location(pid, e.offset, e.length)
                if e.kind == pf.CHUNK:
                    self._chunks.setdefault(e.ref.oid, []).insert(0, loc)
                elif e.kind == pf.CHUNK_LIST:
                    self._lists.setdefault(e.ref.oid, []).insert(0, loc)
                else:
                    self._where.setdefault(e.ref, []).insert(0, loc)

    # -- queries -------------------------------------------------------------------------------
    def _live(self, locs: Sequence[pf.Location]) -> bool:
        return any(self.packs[loc.pack].dropped is None for loc in locs)

    def has(self, ref: ObjectRef) -> bool:
        """In a pack that is not marked for deletion (a big file: its chunk list)."""
        self.load()
        if self._live(self._where.get(ref, ())):
            return True
        return not ref.is_dir and self._live(self._lists.get(ref.oid, ()))

    def has_chunk(self, oid: Oid) -> bool:
        self.load()
        return self._live(self._chunks.get(oid, ()))

    def locations(self, ref: ObjectRef) -> list[pf.Location]:
        """Where whole copies of ``ref`` are (not chunked ones)."""
        self.load()
        return list(self._where.get(ref, ()))

    def chunk_locations(self, oid: Oid) -> list[pf.Location]:
        self.load()
        return list(self._chunks.get(oid, ()))

    def list_locations(self, oid: Oid) -> list[pf.Location]:
        self.load()
        return list(self._lists.get(oid, ()))

    def chunked(self, ref: ObjectRef) -> bool:
        """Stored as a chunk list (and not also whole)."""
        return not ref.is_dir and not self.locations(ref) and bool(self.list_locations(ref.oid))

    def holders(self, ref: ObjectRef) -> list[str]:
        self.load()
        return [loc.pack for loc in self._where.get(ref, ())]

    def objects(self) -> set[ObjectRef]:
        self.load()
        return set(self._where)

    # -- writing -------------------------------------------------------------------------------
    def ensure_format(self) -> None:
        """Write ``pv-remote.yaml`` on a remote that has none yet (before the first pack)."""
        self.load()
        with self._lock:
            if self.format is not None:
                return
            fmt = pf.RemoteFormat()
            text = pf.format_to_text(fmt).encode("utf-8")
            self.remote.write_file(pf.FORMAT_FILE, text)
            self.format = fmt
            if self.cache_dir is not None:
                with contextlib.suppress(OSError, PvError):
                    self.cache_dir.mkdir(parents=True, exist_ok=True)
                    fsutil.atomic_write(self.cache_dir / pf.FORMAT_FILE, text)

    def write_pack(self, items: Sequence[tuple[ObjectRef, str | Path, int]]) -> str:
        """Stream ``(ref, cache file, size)`` items into a new pack, then write its index; the
        pack's id. ChangedWhileReadingError when a file is not what was indexed."""
        return self.write_items([Item(ref, path, size) for ref, path, size in items])

    def write_items(self, items: Sequence[Item]) -> str:
        """A new pack of files, manifests, chunks (a range of a file) and chunk lists (bytes)."""
        entries = pf.layout_entries([(i.ref, i.size) for i in items], [i.kind for i in items])
        index = pf.encode_index(entries)
        pid = pf.index_id(index)
        self.remote.write_stream(f"{pf.PACKS}/{pid}.pack", _stream(items))
        self.remote.write_file(f"{pf.PACKS}/{pid}.idx", index)
        self._remember(pid, index)
        with self._lock:
            self.packs[pid] = Pack(pid, entries)
        self._add_entries(pid, entries)
        return pid

    def write_streamed(self, pieces: Iterable[bytes], entries: list[pf.Entry]) -> str:
        """A pack whose objects are known only once ``pieces`` is consumed (a source read once:
        ``pv add/import-url --to-remote``): the generator appends an entry for each object it
        yields. The pack goes to a temp name, is renamed to its index's id once complete, then
        the index is written; a failure removes the temp file, so nothing is left under a name
        readers use."""
        import uuid

        tmp = f"{pf.PACKS}/.incoming.{uuid.uuid4().hex[:12]}.pvtmp"  # a temp name (fsutil.is_tmp_name)
        total = 0

        def counted() -> Iterator[bytes]:
            nonlocal total
            for piece in pieces:
                total += len(piece)
                yield piece

        try:
            self.remote.write_stream(tmp, counted(), part_size=STREAM_PART)
            laid = pf.layout_entries([(e.ref, e.length) for e in entries], [e.kind for e in entries])
            if sum(e.length for e in laid) != total:
                raise RemoteError(f"a streamed pack holds {total} bytes, its objects {sum(e.length for e in laid)}")
            index = pf.encode_index(laid)
            pid = pf.index_id(index)
            self.remote.move_file(tmp, f"{pf.PACKS}/{pid}.pack")
        except BaseException:
            with contextlib.suppress(Exception):
                self.remote.remove_file(tmp)
            raise
        self.remote.write_file(f"{pf.PACKS}/{pid}.idx", index)
        self._remember(pid, index)
        with self._lock:
            self.packs[pid] = Pack(pid, laid)
        self._add_entries(pid, laid)
        return pid

    def write_pack_from(self, entries: Sequence[pf.Entry], chunks: Iterable[bytes]) -> str:
        """A pack of ``entries`` (their kinds and sizes; offsets are laid out anew) whose bytes
        ``chunks`` yields in order (repack)."""
        laid = pf.layout_entries([(e.ref, e.length) for e in entries], [e.kind for e in entries])
        index = pf.encode_index(laid)
        pid = pf.index_id(index)
        total = sum(e.length for e in entries)

        def counted() -> Iterator[bytes]:
            n = 0
            for c in chunks:
                n += len(c)
                yield c
            if n != total:
                raise RemoteError(f"repacking into pack '{pid}' read {n} bytes, expected {total}")

        self.remote.write_stream(f"{pf.PACKS}/{pid}.pack", counted())
        self.remote.write_file(f"{pf.PACKS}/{pid}.idx", index)
        self._remember(pid, index)
        with self._lock:
            self.packs[pid] = Pack(pid, laid)
            self._reindex()
        return pid

    def publish_index_list(self, *, attempts: int = 3) -> None:
        """Rewrite ``packs/indexes`` (for readers that cannot list) from a fresh listing, until a
        listing after the write shows no index it lacks (a concurrent writer's)."""
        if not self.listable or not self.remote.writable:
            return
        written: list[str] | None = None
        for _ in range(attempts):
            names = self.remote.list_dir(pf.PACKS)
            ids = sorted(n[:-4] for n in names if n.endswith(".idx") and pf.is_pack_id(n[:-4]))
            if ids == written:
                return
            self.remote.write_file(pf.INDEX_LIST, ("".join(f"{i}\n" for i in ids)).encode("ascii"))
            written = ids

    # -- reading -------------------------------------------------------------------------------
    def plan_reads(self, refs: Collection[ObjectRef], *, max_gap: int = MAX_GAP,
                   max_block: int = MAX_BLOCK) -> list[Read]:
        """Merged range requests for ``refs`` (each read from its first location)."""
        from fsspec.utils import merge_offset_ranges

        by_pack: dict[str, list[pf.Entry]] = {}
        for ref in refs:
            locs = self.locations(ref)
            if locs:
                loc = locs[0]
                by_pack.setdefault(loc.pack, []).append(pf.Entry(ref, loc.offset, loc.length))
        reads: list[Read] = []
        for pid in sorted(by_pack):
            entries = sorted(by_pack[pid], key=lambda e: e.offset)
            paths, starts, ends = merge_offset_ranges(
                [pid] * len(entries), [e.offset for e in entries], [e.offset + e.length for e in entries],
                max_gap=max_gap, max_block=max_block, sort=False,
            )
            i = 0
            for start, end in zip(starts, ends):
                assert end is not None
                inside = []
                while i < len(entries) and entries[i].offset + entries[i].length <= end:
                    inside.append(entries[i])
                    i += 1
                reads.append(Read(pid, int(start), int(end), tuple(inside)))
        return reads

    def apply_read(self, read: Read, odb: ObjectDB) -> list[tuple[ObjectRef, PvError | None]]:
        """Fetch one merged range and put each object that verifies into the cache (objects
        the cache lacks: callers plan reads for those only); a bad copy is retried from the next
        index listing the object."""
        data = self.remote.read_range(f"{pf.PACKS}/{read.pack}.pack", read.start, read.end)
        results: list[tuple[ObjectRef, PvError | None]] = []
        for e in read.objects:
            lo = e.offset - read.start
            chunk = data[lo:lo + e.length]
            try:
                if not good(e.ref, chunk):
                    chunk = self.read_object(e.ref, skip={read.pack}, first_bad=read.pack)
                # the caller asks only for objects the cache lacks: no second look per object
                odb.insert_verified_bytes(e.ref.oid, chunk, is_dir=e.ref.is_dir, missing=True)
                results.append((e.ref, None))
            except PvError as exc:
                results.append((e.ref, exc))
        return results

    def read_object(self, ref: ObjectRef, *, skip: Collection[str] = (), first_bad: str | None = None) -> bytes:
        """The verified bytes of ``ref`` from the first pack with a good copy; CorruptObjectError
        naming the bad pack when no copy is good, ObjectMissingError when no pack lists it."""
        bad = first_bad
        for loc in self.locations(ref):
            if loc.pack in skip:
                continue
            data = self.remote.read_range(f"{pf.PACKS}/{loc.pack}.pack", loc.offset, loc.offset + loc.length)
            if good(ref, data):
                return data
            bad = bad or loc.pack
        if bad is not None:
            raise CorruptObjectError(str(ref.oid), where=f"remote '{self.remote.name}' (pack '{pf.PACKS}/{bad}.pack')")
        from pipever.remote.failures import ObjectMissingError

        raise ObjectMissingError(f"not on remote '{self.remote.name}' ({self.remote.display})",
                                 hint="push it from a machine that has it")

    def verify(self, refs: Collection[ObjectRef]) -> dict[ObjectRef, str]:
        """Read ``refs`` from their first pack by merged ranges and hash each; the objects whose
        copy there is bad, with that pack's name (readers would fall back to another copy)."""

        bad: dict[ObjectRef, str] = {}

        def check(read: Read) -> list[tuple[ObjectRef, str]]:
            try:
                data = self.remote.read_range(f"{pf.PACKS}/{read.pack}.pack", read.start, read.end)
            except PvError:
                data = b""
            out = []
            for e in read.objects:
                lo = e.offset - read.start
                if not good(e.ref, data[lo:lo + e.length]):
                    out.append((e.ref, f"{pf.PACKS}/{read.pack}.pack"))
            return out

        for found in map_concurrently(check, self.plan_reads(refs), jobs=READ_JOBS):
            bad.update(found)
        return bad

    def read_chunk_list(self, oid: Oid) -> list[Any]:
        """The chunk list of big file ``oid`` from the first pack with a readable one (the
        file's hash checks it in the end); CorruptObjectError naming the pack otherwise."""
        from pipever.remote import chunking

        bad = None
        for loc in self.list_locations(oid):
            data = self.remote.read_range(f"{pf.PACKS}/{loc.pack}.pack", loc.offset, loc.offset + loc.length)
            try:
                return chunking.decode(data)
            except (chunking.ChunkListError, ValueError):
                bad = bad or loc.pack
        raise CorruptObjectError(f"{oid} (its chunk list)",
                                 where=f"remote '{self.remote.name}' (pack '{pf.PACKS}/{bad}.pack')")

    def download_packed(self, ref: ObjectRef, odb: ObjectDB) -> bool:
        """Put ``ref`` into the cache from a pack; False when no pack lists it (a chunked file:
        ``chunkfetch.download_one``)."""
        if not self.locations(ref):
            return False
        odb.insert_verified_bytes(ref.oid, self.read_object(ref), is_dir=ref.is_dir)
        return True

    # -- deleting (gc --cloud) -------------------------------------------------------------------
    def mark_dropped(self, pid: str) -> None:
        self.remote.write_file(f"{pf.PACKS}/{pid}.drop", b"")

    def delete_pack(self, pid: str) -> None:
        """Index first (so no index names a missing pack), then the pack, then its marker."""
        for suffix in (".idx", ".pack", ".drop"):
            self.remote.remove_file(f"{pf.PACKS}/{pid}{suffix}")
        with self._lock:
            self.packs.pop(pid, None)
            self._reindex()
        cached = self._cached(pid)
        if cached is not None:
            with contextlib.suppress(OSError):
                os.unlink(cached)

    def remove_index(self, rel: str) -> None:
        self.remote.remove_file(rel)


def good(ref: ObjectRef, data: bytes) -> bool:
    if hash_bytes(data) != ref.oid:
        return False
    if ref.is_dir:
        try:
            mf.from_bytes(data, what=str(ref.oid))
        except ManifestError:
            return False
    return True


@dataclass(frozen=True)
class Item:
    """One object to put in a pack: ``size`` bytes of ``source`` (a file, from ``offset``; or
    bytes in memory) that must hash to ``ref``'s oid -- except a chunk list, named by its file."""

    ref: ObjectRef
    source: str | Path | bytes
    size: int
    offset: int = 0
    kind: int = pf.FILE

    def __post_init__(self) -> None:
        if self.ref.is_dir and self.kind == pf.FILE:
            object.__setattr__(self, "kind", pf.DIR)


def _stream(items: Sequence[Item], *, buffer: int = 1 << 20) -> Iterator[bytes]:
    """The items' bytes back to back, in pieces of about ``buffer`` bytes. What goes into a pack
    is what its index says: a file that changed (or rotted) since it was hashed stops the pack
    before its index is written."""
    from blake3 import blake3

    pending: list[bytes] = []
    held = 0
    for item in items:
        source = item.source
        if isinstance(source, bytes):
            data = source
        else:  # one pread: a whole small file, or a chunk's range (one byte more: it must end there)
            data = _pread(source, item.size + (0 if item.kind == pf.CHUNK else 1), item.offset)
        if len(data) != item.size or (item.kind != pf.CHUNK_LIST and blake3(data).hexdigest() != item.ref.oid.hex):
            raise ChangedWhileReadingError(str(source) if not isinstance(source, bytes) else str(item.ref.oid))
        pending.append(data)
        held += item.size
        if held >= buffer:
            yield b"".join(pending)
            pending, held = [], 0
    if pending:
        yield b"".join(pending)


def _pread(path: str | Path, n: int, offset: int) -> bytes:
    """Up to ``n`` bytes of ``path`` from ``offset`` (fewer at its end)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        return bulk.read_fd(fd, n, offset)
    finally:
        os.close(fd)
