"""Data straight to a remote, without a cache copy (``pv add --to-remote``, ``pv import-url
--to-remote``, SPEC §6).

Small workspace files (below the pack threshold, on a packed remote) were hashed just before:
they go into packs whose stream re-checks every file's hash, so a file that changed in between
stops the pack before its index exists. Other data is read once (``put_stream``): hashed while
it is cut into FastCDC chunks that stream into packs (each pack under a temp name until it is
complete, renamed to its index's id, then the index written), and the chunk list is stored
last, after the caller's check that the source did not change; on a loose remote it streams to
a temp name and is renamed to its object path. Nothing unverified gets a name readers use.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import blake3

from pipever.errors import PvError
from pipever.objects.hashing import hash_bytes
from pipever.objects.manifest import Manifest
from pipever.objects.odb import ObjectDB, ObjectRef
from pipever.objects.oid import Oid
from pipever.remote import chunking, packfmt, transfer
from pipever.remote.base import TMP_SUFFIX, Remote
from pipever.remote.packs import Item

PIECE = 1 << 20


def put_small(remote: Remote, items: Sequence[tuple[ObjectRef, Path, int]]) -> None:
    """Objects the caller hashed, into packs (``pack_size`` each) -- or loose on a loose remote."""
    if not remote.packed:
        for ref, path, _ in items:
            got = put_hashing(remote, path, is_dir=ref.is_dir)
            if got != ref.oid:
                from pipever.objects.odb import ChangedWhileReadingError

                raise ChangedWhileReadingError(str(path))
        return
    remote.packs.ensure_format()
    for group in packfmt.group_into_packs([(r, n) for r, _, n in items], remote.pack_size):
        refs = {r for r, _ in group}
        remote.packs.write_pack([i for i in items if i[0] in refs])


def file_pieces(path: Path) -> Iterator[bytes]:
    """A file's bytes in pieces of ``PIECE``."""
    with open(path, "rb") as f:
        while True:
            piece = f.read(PIECE)
            if not piece:
                return
            yield piece


def put_hashing(remote: Remote, path: Path, *, is_dir: bool = False) -> Oid:
    """Stream one file to the remote as one loose object while hashing it; its oid."""
    return _put_loose(remote, file_pieces(path), is_dir=is_dir)[0]


def put_stream(remote: Remote, pieces: Iterable[bytes], *, check: Callable[[], None] | None = None,
               small: Callable[[ObjectRef, bytes], None] | None = None) -> tuple[Oid, int]:
    """Store a file's bytes, read once from ``pieces`` and hashed on the way, on the remote; its
    oid and size. On a packed remote a file below the pack threshold goes into a pack, a bigger
    one as FastCDC chunks in packs (only chunks the remote lacks) plus its chunk list, exactly as
    ``pv push`` stores it; memory stays at about one threshold plus one upload part. ``check``
    runs once every byte was read and before the object gets its name (raise to refuse it: the
    source changed meanwhile); chunks already stored stay as unreferenced garbage for gc.
    ``small`` takes a small file's bytes instead of a pack of its own (``SmallBatch.add``)."""
    pieces = _source(pieces)
    if not remote.packed or not chunking.available():
        return _put_loose(remote, pieces, check=check)
    store = remote.packs
    store.ensure_format()
    src = _Tee(pieces)
    threshold = remote.pack_threshold
    head = src.read_upto(threshold)
    if len(head) < threshold:  # the whole file: small
        oid = src.oid()
        if check is not None:
            check()
        ref = ObjectRef(oid, False)
        if small is not None:
            small(ref, head)
        elif not store.has(ref):
            store.write_items([Item(ref, head, len(head))])
        return oid, len(head)
    src.push_back(head)
    del head
    chunks = _stream_chunks(remote, src)
    oid = src.oid()
    if check is not None:
        check()
    ref = ObjectRef(oid, False)
    if not store.has(ref):
        data = chunking.encode(chunks)
        store.write_items([Item(ref, data, len(data), kind=packfmt.CHUNK_LIST)])
    return oid, src.size


class SourceReadError(PvError):
    def __init__(self, why: str) -> None:
        super().__init__(f"reading the data to send failed: {why}", hint="check the source, then rerun the command")


def _source(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """``pieces``, with an OSError of the source told apart from the remote's errors."""
    try:
        yield from pieces
    except PvError:
        raise
    except OSError as exc:
        raise SourceReadError(str(exc)) from exc


class SmallBatch:
    """Small files read by ``put_stream`` gathered into shared packs (at most ``BATCH`` bytes
    held in memory) rather than a pack each; ``flush`` stores the rest."""

    BATCH = 16 << 20

    def __init__(self, remote: Remote) -> None:
        self.remote = remote
        self.items: list[Item] = []
        self.held = 0
        self.limit = min(remote.pack_size, self.BATCH)

    def add(self, ref: ObjectRef, data: bytes) -> None:
        if any(i.ref == ref for i in self.items) or self.remote.packs.has(ref):
            return
        self.items.append(Item(ref, data, len(data)))
        self.held += len(data)
        if self.held >= self.limit:
            self.flush()

    def flush(self) -> None:
        if self.items:
            self.remote.packs.write_items(self.items)
        self.items, self.held = [], 0


def _stream_chunks(remote: Remote, src: _Tee) -> list[chunking.Chunk]:
    """Cut ``src`` into chunks and stream those the remote lacks into packs of at most
    ``pack_size``; the file's chunk list."""
    store = remote.packs
    params = (store.format or packfmt.RemoteFormat()).chunking
    limit = remote.pack_size
    chunks: list[chunking.Chunk] = []
    queued: set[Oid] = set()

    def new() -> Iterator[tuple[Oid, bytes]]:
        for c in chunking.chunker(params).cut_stream(src):
            data = bytes(c.data)
            coid = hash_bytes(data)
            chunks.append(chunking.Chunk(coid, c.offset, c.length))
            if coid in queued or store.has_chunk(coid):
                continue
            queued.add(coid)
            yield coid, data

    todo = new()
    nxt = next(todo, None)
    while nxt is not None:
        entries: list[packfmt.Entry] = []

        def body() -> Iterator[bytes]:
            nonlocal nxt
            held = 0
            pending: list[bytes] = []
            total = 0
            while nxt is not None and (not entries or total + len(nxt[1]) <= limit):
                coid, data = nxt
                entries.append(packfmt.Entry(ObjectRef(coid, False), total, len(data), packfmt.CHUNK))
                total += len(data)
                pending.append(data)
                held += len(data)
                if held >= PIECE:
                    yield b"".join(pending)
                    pending, held = [], 0
                nxt = next(todo, None)
            if pending:
                yield b"".join(pending)

        store.write_streamed(body(), entries)
    return chunks


def _put_loose(remote: Remote, pieces: Iterable[bytes], *, is_dir: bool = False,
               check: Callable[[], None] | None = None) -> tuple[Oid, int]:
    """One loose object, streamed to a temp name while hashed, renamed once complete."""
    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
    size = 0

    def hashed() -> Iterator[bytes]:
        nonlocal size
        for piece in pieces:
            hasher.update(piece)
            size += len(piece)
            yield piece

    tmp = f"blake3/.incoming-{uuid.uuid4().hex[:16]}{TMP_SUFFIX}"
    remote.write_stream(tmp, hashed())
    oid = Oid(hasher.hexdigest())
    try:
        if check is not None:
            check()
        remote.move_file(tmp, ObjectRef(oid, is_dir).relpath)
    except BaseException:
        remote.remove_file(tmp)
        raise
    return oid, size


class _Tee:
    """A reader over ``pieces`` (``readinto``, as FastCDC wants) that hashes and counts every
    byte it hands out, so the file is hashed while it is cut and sent."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self._buf = memoryview(b"")
        self._hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
        self._replay = False
        self.size = 0

    def _fill(self) -> bool:
        while not self._buf:
            piece = next(self._pieces, None)
            if piece is None:
                return False
            self._buf = memoryview(piece)
        return True

    def read_upto(self, n: int) -> bytes:
        """Up to ``n`` bytes (fewer only at the end), hashed."""
        out = bytearray()
        while len(out) < n and self._fill():
            take = self._buf[:n - len(out)]
            out += take
            self._take(take)
        return bytes(out)

    def push_back(self, data: bytes) -> None:
        """Give ``data`` (just read, so already hashed) out again first."""
        self._buf = memoryview(data + bytes(self._buf)) if self._buf else memoryview(data)
        self._replay = True
        self._replayed = len(data)

    def _take(self, view: memoryview) -> None:
        n = len(view)
        if self._replay:
            skip = min(n, self._replayed)
            self._replayed -= skip
            if self._replayed == 0:
                self._replay = False
            view = view[skip:]
        if view:
            self._hasher.update(view)
            self.size += len(view)
        self._buf = self._buf[n:]

    def readinto(self, b: memoryview) -> int:
        if not self._fill():
            return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._take(self._buf[:n])
        return n

    def oid(self) -> Oid:
        return Oid(self._hasher.hexdigest())


def put_manifest(remote: Remote, odb: ObjectDB, manifest: Manifest) -> tuple[Oid, bool]:
    """Store a directory's manifest in the cache (small, and what status and pull read) and on
    the remote, whose files the caller has just sent; its oid, and whether it was sent now."""
    oid = odb.add_manifest(manifest)
    ref = ObjectRef(oid, True)
    if ref in remote.existing([ref]):
        return oid, False
    files = [ObjectRef(e.oid, False) for e in manifest.entries]
    outcome = transfer.upload(remote, odb, [], {ref: files}, present=files, jobs=remote.jobs)
    if outcome.failed:
        raise outcome.failed[0][1]
    return oid, True
