"""Objects read straight from a remote, with no cache copy (``pipever.api.open``; SPEC §4.1, §12).

A chunked big file streams in the order its chunk list gives: windows of chunks (the first one
small, so a reader that wants only the start fetches little, then doubling up to ``WINDOW``
bytes; after the first, ``AHEAD`` windows are fetched while the caller reads one, so memory
stays at a few windows whatever the file's size). Each chunk comes from a cached
version that holds it (the local chunk index) or from the remote's packs by merged range reads,
and is hashed before any of its bytes are handed out: no corrupt byte is ever returned. At the
end the whole file's hash must be the file's oid; a mismatch there means a wrong chunk list (each
chunk was good), and is raised after the caller has seen the bytes. Nothing enters the cache,
as with ``dvc.api.open``: reading a 50 GB file must not need 50 GB of disk.

A loose object (one file per object, old remotes and ``layout: loose``) has no parts with
hashes of their own: up to ``WHOLE`` bytes it is read whole, verified and put into the cache
(cheap, and the next read is local); a bigger one streams and is hashed as it goes, and a
mismatch raises ``CorruptRemoteObjectError`` at its end.

Closing the reader early stops fetching: pieces are produced only when the caller reads.
"""

from __future__ import annotations

import collections
import io
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from pipever.errors import CorruptObjectError, CorruptRemoteObjectError
from pipever.objects.odb import ObjectDB, ObjectRef
from pipever.objects.oid import Oid
from pipever.remote import chunkfetch, chunking
from pipever.remote.packs import PackStore

FIRST_WINDOW = 256 << 10  # bytes of chunks fetched for the first read
WINDOW = 4 << 20  # the most bytes of chunks held at once
AHEAD = 3  # windows in flight while the caller reads one (hides the remote's latency)
WHOLE = 4 << 20  # loose objects up to this size are read whole and verified before use
PIECE = 1 << 20  # read size of a big loose object


def chunk_list(store: PackStore, oid: Oid, *, path: str | None = None) -> list[chunking.Chunk]:
    """The chunk list of chunked file ``oid`` (read when the file is opened, so a missing or
    unreadable one fails ``open`` itself); ``CorruptRemoteObjectError`` naming the file."""
    try:
        return store.read_chunk_list(oid)
    except CorruptObjectError as exc:
        raise CorruptRemoteObjectError(str(oid), path, store.remote.name, exc.message) from None


def chunked_pieces(store: PackStore, oid: Oid, chunks: list[chunking.Chunk], local: chunking.LocalChunks, *,
                   path: str | None = None, first: int | None = None, most: int | None = None) -> Iterator[bytes]:
    """The bytes of chunked file ``oid`` listed as ``chunks``, chunk by chunk, each verified
    before it is yielded; ``CorruptRemoteObjectError`` naming the file (and the bad chunk's pack)
    otherwise, and at the end when the bytes do not hash to ``oid`` (a wrong chunk list)."""
    from blake3 import blake3

    name = store.remote.name

    def load(window: list[chunking.Chunk]) -> dict[Oid, bytes]:
        have: dict[Oid, bytes] = {}
        for c in window:
            if c.oid not in have:
                data = local.read(c)  # verified against the chunk's oid
                if data is not None:
                    have[c.oid] = data
        missing = [c for c in window if c.oid not in have]
        reused = sum(c.length for c in window if c.oid in have)
        if missing:
            try:
                have.update(chunkfetch.fetch_chunks(store, missing))  # each one verified
            except CorruptObjectError as exc:
                raise CorruptRemoteObjectError(str(oid), path, name, exc.message) from None
        with chunkfetch.Stats.lock:
            chunkfetch.Stats.reused += reused
        return have

    whole = blake3()

    def emit(window: list[chunking.Chunk], have: dict[Oid, bytes]) -> Iterator[bytes]:
        for c in window:
            data = have[c.oid]
            whole.update(data)
            yield data

    windows = chunking.growing_windows(chunks, first or FIRST_WINDOW, most or WINDOW)
    depth = max(1, AHEAD)
    pending: collections.deque[tuple[list[chunking.Chunk], Future[dict[Oid, bytes]]]] = collections.deque()
    pool = ThreadPoolExecutor(depth, thread_name_prefix="pv-stream")

    def refill() -> None:
        while len(pending) < depth:
            following = next(windows, None)
            if following is None:
                return
            pending.append((following, pool.submit(load, following)))

    try:
        start = next(windows, None)
        if start is not None:  # the first window alone: a reader of the start fetches little
            yield from emit(start, load(start))
            refill()
        while pending:  # then ``depth`` windows in flight while the caller reads one
            window, fut = pending.popleft()
            have = fut.result()
            refill()
            yield from emit(window, have)
            del have
    finally:
        for _, fut in pending:
            fut.cancel()
        pool.shutdown(wait=True, cancel_futures=True)  # closed early: the reads in flight end
    if whole.hexdigest() != oid.hex:
        raise CorruptRemoteObjectError(
            str(oid), path, name, "its chunk list names good chunks that do not make up the file "
            "(the bytes read do not hash to its oid)")


def open_loose(remote: Any, ref: ObjectRef, odb: ObjectDB, *, path: str | None = None,
               whole: int = WHOLE) -> tuple[Iterator[bytes], Callable[[], None]] | None:
    """A loose object of ``remote`` (a ``base.Remote``): None when it was small enough to be
    read whole, verified and put into the cache; else its pieces (hashed as they go, checked
    at the end) and a function that closes the open file."""
    from pipever.remote.base import insert_bytes

    f = remote.open_loose(ref, block_size=PIECE)
    try:
        with remote.mapped_errors():
            head = f.read(whole + 1)
        if len(head) <= whole:
            insert_bytes(odb, ref, head, remote=remote.name)
            f.close()
            return None
    except BaseException:
        f.close()
        raise
    return _loose_pieces(remote, f, head, ref.oid, path), f.close


def _loose_pieces(remote: Any, f: Any, head: bytes, oid: Oid, path: str | None) -> Iterator[bytes]:
    from blake3 import blake3

    h = blake3(head)
    yield head
    while True:
        with remote.mapped_errors():
            piece = f.read(PIECE)
        if not piece:
            break
        h.update(piece)
        yield piece
    if h.hexdigest() != oid.hex:
        raise CorruptRemoteObjectError(str(oid), path, remote.name,
                                       "the bytes read do not hash to its oid (it was read to its end)")


class PieceReader(io.RawIOBase):
    """A readable, non-seekable raw file over an iterator of byte pieces; pieces are pulled
    only as the caller reads. An error raised by the iterator is raised again by every later
    read (never a silent end of file). Closing stops the iterator and calls ``on_close``."""

    def __init__(self, pieces: Iterator[bytes], on_close: Callable[[], None] | None = None) -> None:
        self._pieces = pieces
        self._piece = b""  # the piece _buf views (readall hands it out without a copy)
        self._buf = memoryview(b"")
        self._on_close = on_close
        self._done = False
        self._error: BaseException | None = None

    def readable(self) -> bool:
        return True

    def _fill(self) -> bool:
        """Make the buffer non-empty; False at the end."""
        while not self._buf:
            if self._error is not None:
                raise self._error
            if self._done:
                return False
            try:
                self._piece = next(self._pieces)
                self._buf = memoryview(self._piece)
            except StopIteration:
                self._done = True
                return False
            except Exception as exc:
                self._error = exc
                raise
        return True

    def readinto(self, b: Any) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        out = memoryview(b).cast("B")
        if not len(out) or not self._fill():
            return 0
        n = min(len(out), len(self._buf))
        out[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def readall(self) -> bytes:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        parts = []
        while self._fill():
            parts.append(self._piece if len(self._buf) == len(self._piece) else bytes(self._buf))
            self._piece, self._buf = b"", memoryview(b"")
        return b"".join(parts)

    def close(self) -> None:
        if self.closed:
            return
        try:
            close = getattr(self._pieces, "close", None)
            if close is not None:
                close()
        finally:
            self._piece, self._buf = b"", memoryview(b"")
            if self._on_close is not None:
                self._on_close()
            super().close()
