"""Content-defined chunks of big files (SPEC §4.1 "Chunks for big files").

A file at or above the pack threshold is stored on a packed remote as its chunks (in packs) and
a chunk list (``PVCHL1\\n`` then, per chunk in file order, its 32-byte BLAKE3 digest and its
length as a big-endian u32). Boundaries come from FastCDC (``pyfastcdc``) with the parameters
pinned in the remote's ``pv-remote.yaml``, so every client cuts a file the same way and an edit
changes only the chunks around it. The file's oid stays the hash of the whole file.

``LocalChunks`` is the local, rebuildable chunk index: the chunk lists of big files in the cache
(``.pv/tmp/chunks/<oid hex>``), so a push knows a file's chunks without cutting it again and a
pull rebuilds a new version from chunks of versions already in the cache.
"""

from __future__ import annotations

import contextlib
import os
import struct
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blake3 import blake3

from pipever import fsutil
from pipever.objects.hashing import hash_bytes
from pipever.objects.oid import Oid
from pipever.remote.packfmt import Chunking

MAGIC = b"PVCHL1\n"
_REC = struct.Struct(">32sI")
_warned = threading.Event()


class ChunkListError(ValueError):
    """Bytes that are no chunk list."""


@dataclass(frozen=True)
class Chunk:
    oid: Oid
    offset: int
    length: int


def available() -> bool:
    try:
        import pyfastcdc  # noqa: F401
    except ImportError:
        return False
    return True


def compiled() -> bool:
    """Whether pyfastcdc's compiled extension is used (else it is ~100x slower)."""
    try:
        import pyfastcdc.cy  # noqa: F401
    except ImportError:
        return False
    return True


def chunker(params: Chunking) -> Any:
    if not compiled() and not _warned.is_set():
        _warned.set()
        warnings.warn("pyfastcdc runs without its compiled extension: chunking big files is slow "
                      "(reinstall pyfastcdc for this Python)", RuntimeWarning, stacklevel=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pyfastcdc import FastCDC
    return FastCDC(params.avg_size, min_size=params.min_size, max_size=params.max_size,
                   normalized_chunking=params.normalization,  # type: ignore[arg-type]  # validated 0-3 in pv-remote.yaml
                   seed=params.seed)


def cut_file(path: Path, params: Chunking) -> list[Chunk]:
    """The chunks of a file (streamed: memory stays at a few chunk sizes)."""
    return list(iter_cut(path, params))


def iter_cut(path: Path, params: Chunking) -> Iterator[Chunk]:
    """The chunks of a file as they are cut."""
    trusted = Oid.trusted
    with open(path, "rb") as f:
        for c in chunker(params).cut_stream(f):  # c.data: a view into the chunker's buffer, hashed in place
            yield Chunk(trusted(blake3(c.data).hexdigest()), c.offset, c.length)


def encode(chunks: list[Chunk]) -> bytes:
    return MAGIC + b"".join(_REC.pack(bytes.fromhex(c.oid.hex), c.length) for c in chunks)


def decode(data: bytes) -> list[Chunk]:
    if not data.startswith(MAGIC) or (len(data) - len(MAGIC)) % _REC.size:
        raise ChunkListError("not a chunk list")
    out = []
    offset = 0
    for digest, length in _REC.iter_unpack(memoryview(data)[len(MAGIC):]):
        out.append(Chunk(Oid(digest.hex()), offset, length))
        offset += length
    return out


class LocalChunks:
    """Chunk lists of cached big files, and where each chunk is in the cache."""

    def __init__(self, root: Path, cache_path: Any) -> None:
        self.root = root
        self._cache_path = cache_path  # Oid -> Path of the cached file object
        self._map: dict[Oid, tuple[Oid, int, int]] | None = None
        self._lock = threading.Lock()

    def get(self, oid: Oid) -> list[Chunk] | None:
        try:
            return decode((self.root / oid.hex).read_bytes())
        except (OSError, ChunkListError, ValueError):
            return None

    def record(self, oid: Oid, chunks: list[Chunk]) -> None:
        with contextlib.suppress(OSError):
            self.root.mkdir(parents=True, exist_ok=True)
            fsutil.atomic_write(self.root / oid.hex, encode(chunks))
        with self._lock:
            if self._map is not None:
                for c in chunks:
                    self._map.setdefault(c.oid, (oid, c.offset, c.length))

    def chunks_of(self, oid: Oid, path: Path, params: Chunking) -> list[Chunk]:
        """The chunk list of a cached file: recorded, or cut now (and recorded)."""
        return list(self.iter_chunks_of(oid, path, params))

    def iter_chunks_of(self, oid: Oid, path: Path, params: Chunking) -> Iterator[Chunk]:
        """``chunks_of`` chunk by chunk, as they are cut (the list is recorded once complete),
        so a push can send the first packs while the rest of the file is being cut."""
        known = self.get(oid)
        if known is not None:
            yield from known
            return
        chunks = []
        for c in iter_cut(path, params):
            chunks.append(c)
            yield c
        self.record(oid, chunks)

    def where(self) -> dict[Oid, tuple[Oid, int, int]]:
        """chunk oid -> (cached file oid, offset, length), over files still in the cache."""
        with self._lock:
            if self._map is None:
                found: dict[Oid, tuple[Oid, int, int]] = {}
                with contextlib.suppress(OSError):
                    for name in sorted(os.listdir(self.root)):
                        if len(name) != 64:
                            continue
                        oid = Oid(name)
                        if not os.path.exists(self._cache_path(oid)):
                            continue
                        for c in self.get(oid) or ():
                            found.setdefault(c.oid, (oid, c.offset, c.length))
                self._map = found
            return self._map

    def read(self, chunk: Chunk) -> bytes | None:
        """A chunk's bytes from a cached file, if the index knows one and it verifies."""
        hit = self.where().get(chunk.oid)
        if hit is None:
            return None
        file_oid, offset, length = hit
        try:
            with open(self._cache_path(file_oid), "rb") as f:
                f.seek(offset)
                data = f.read(length)
        except OSError:
            return None
        return data if hash_bytes(data) == chunk.oid else None


def iter_windows(chunks: list[Chunk], budget: int) -> Iterator[list[Chunk]]:
    """Consecutive runs of chunks of about ``budget`` bytes."""
    return growing_windows(chunks, budget, budget)


def growing_windows(chunks: list[Chunk], first: int, most: int) -> Iterator[list[Chunk]]:
    """Consecutive runs of chunks for a streaming reader: the first of about ``first`` bytes (a
    reader that wants only the start fetches little), each next one twice the last, up to
    ``most`` bytes (memory stays at one window, whatever the file's size)."""
    cur: list[Chunk] = []
    held = 0
    budget = max(1, min(first, most))
    for c in chunks:
        cur.append(c)
        held += c.length
        if held >= budget:
            yield cur
            cur, held = [], 0
            budget = min(max(budget * 2, 1), max(most, 1))
    if cur:
        yield cur
