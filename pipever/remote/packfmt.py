"""The bytes of a packed remote (SPEC §4.1): pack indexes, the remote's format file, and how
objects are grouped into packs. Pure: no I/O, no fsspec.

An index is ``MAGIC``, 16 random bytes (so no two writes ever get the same name, even for the
same objects: a pack is never overwritten, and never takes the name of one marked for deletion),
then one 49-byte record per object, in pack order: the 32-byte BLAKE3 digest, a kind byte (0
file, 1 directory manifest), the offset and the length (big-endian u64). The pack
``<id>.pack`` is the objects' bytes back to back; ``<id>`` is the BLAKE3 of the index bytes, so
an index is verified by its own name and a pack's index is known (and named) before the pack is
streamed.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipever.objects.hashing import hash_bytes
from pipever.objects.oid import Oid
from pipever.objects.odb import ObjectRef

MAGIC = b"PVIDX1\n"
NONCE = 16
_REC = struct.Struct(">32sBQQ")
FORMAT_VERSION = 2  # 1: loose objects only (no pv-remote.yaml); 2: packs and indexes
PACKS = "packs"
INDEX_LIST = "packs/indexes"
FORMAT_FILE = "pv-remote.yaml"

PACKED, LOOSE = "packed", "loose"
DEFAULT_THRESHOLD = 4 << 20
DEFAULT_PACK_SIZE = 64 << 20


class IndexFormatError(ValueError):
    """Bytes that are no pack index (or one that does not fit its pack)."""


FILE, DIR, CHUNK, CHUNK_LIST = 0, 1, 2, 3  # kinds of objects in a pack


@dataclass(frozen=True)
class Entry:
    ref: ObjectRef  # a chunk: its own oid; a chunk list: the oid of the file it rebuilds
    offset: int
    length: int
    kind: int = FILE  # FILE or DIR follow ``ref.is_dir``; CHUNK, CHUNK_LIST are set explicitly

    @property
    def code(self) -> int:
        return DIR if self.ref.is_dir else self.kind


@dataclass(frozen=True)
class Location:
    pack: str  # pack id (64 hex)
    offset: int
    length: int


def encode_index(entries: Sequence[Entry], *, nonce: bytes | None = None) -> bytes:
    parts = [MAGIC, os.urandom(NONCE) if nonce is None else nonce]
    for e in entries:
        parts.append(_REC.pack(bytes.fromhex(e.ref.oid.hex), e.code, e.offset, e.length))
    return b"".join(parts)


def decode_index(data: bytes) -> list[Entry]:
    head = len(MAGIC) + NONCE
    if not data.startswith(MAGIC) or len(data) < head or (len(data) - head) % _REC.size:
        raise IndexFormatError("not a pack index")
    entries = []
    for digest, kind, offset, length in _REC.iter_unpack(memoryview(data)[head:]):
        if kind not in (FILE, DIR, CHUNK, CHUNK_LIST):
            raise IndexFormatError(f"unknown object kind {kind}")
        entries.append(Entry(ObjectRef(Oid(digest.hex()), kind == DIR), offset, length, kind))
    return entries


def index_id(data: bytes) -> str:
    return hash_bytes(data).hex


def layout_entries(items: Iterable[tuple[ObjectRef, int]], kinds: Sequence[int] | None = None) -> list[Entry]:
    """Consecutive offsets for ``(ref, size)`` items, in the given order (``kinds``: per item,
    for chunks and chunk lists)."""
    out = []
    offset = 0
    for i, (ref, size) in enumerate(items):
        kind = kinds[i] if kinds is not None else (DIR if ref.is_dir else FILE)
        out.append(Entry(ref, offset, size, kind))
        offset += size
    return out


def group_into_packs(items: Sequence[tuple[ObjectRef, int]], pack_size: int) -> list[list[tuple[ObjectRef, int]]]:
    """Split ``items`` into packs of at most ``pack_size`` bytes (an object larger than that gets
    a pack of its own), keeping their order."""
    packs: list[list[tuple[ObjectRef, int]]] = []
    cur: list[tuple[ObjectRef, int]] = []
    total = 0
    for ref, size in items:
        if cur and total + size > pack_size:
            packs.append(cur)
            cur, total = [], 0
        cur.append((ref, size))
        total += size
    if cur:
        packs.append(cur)
    return packs


def is_pack_id(name: str) -> bool:
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)


def parse_index_list(text: str) -> list[str]:
    """Ids in a ``packs/indexes`` file (one a line; anything else is skipped)."""
    return [line.strip() for line in text.splitlines() if is_pack_id(line.strip())]


# -- pv-remote.yaml ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Chunking:
    algorithm: str = "fastcdc"
    min_size: int = 16 << 10
    avg_size: int = 64 << 10
    max_size: int = 256 << 10
    normalization: int = 1
    seed: int = 0


@dataclass(frozen=True)
class RemoteFormat:
    version: int = FORMAT_VERSION
    chunking: Chunking = Chunking()


def format_to_text(fmt: RemoteFormat) -> str:
    c = fmt.chunking
    return (
        "# pipever remote format: read by every client before it writes here; do not edit\n"
        f"format: {fmt.version}\n"
        "chunking:\n"
        f"  algorithm: {c.algorithm}\n"
        f"  min_size: {c.min_size}\n"
        f"  avg_size: {c.avg_size}\n"
        f"  max_size: {c.max_size}\n"
        f"  normalization: {c.normalization}\n"
        f"  seed: {c.seed}\n"
    )


def format_from_data(data: object) -> RemoteFormat:
    """A parsed pv-remote.yaml (ValueError for a document that is none)."""
    if not isinstance(data, dict) or not isinstance(data.get("format"), int):
        raise ValueError("no 'format' number")
    raw = data.get("chunking")
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise ValueError("'chunking' is not a mapping")
    base = Chunking()
    values = {}
    for key in ("min_size", "avg_size", "max_size", "normalization", "seed"):
        v = raw.get(key, getattr(base, key))
        if not isinstance(v, int) or v < 0:
            raise ValueError(f"'chunking.{key}' is not a number")
        if key == "normalization" and v > 3:  # FastCDC's levels are 0-3
            raise ValueError("'chunking.normalization' is not 0, 1, 2 or 3")
        values[key] = v
    algo = raw.get("algorithm", base.algorithm)
    return RemoteFormat(int(data["format"]), Chunking(str(algo), **values))
