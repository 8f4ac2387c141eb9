"""BLAKE3 hashing of bytes and files: streamed, multi-threaded for large files, bounded memory."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import mmap
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from blake3 import blake3

from pipever.objects.oid import Oid

SMALL = 1 << 20  # read whole
WINDOW = 32 << 20  # mmap window for large files: memory stays bounded, all cores hash

log = logging.getLogger(__name__)
# who hears of the bytes hashed in this thread (byte-level progress of big files); see ``reporting``
ON_BYTES: contextvars.ContextVar[Callable[[int], None] | None] = contextvars.ContextVar("pv_hash_bytes", default=None)


@contextlib.contextmanager
def reporting(on_bytes: Callable[[int], None] | None) -> Iterator[None]:
    """``hash_file`` calls in this block (this thread) tell ``on_bytes`` of every window hashed."""
    token = ON_BYTES.set(on_bytes)
    try:
        yield
    finally:
        ON_BYTES.reset(token)


def hash_bytes(data: bytes) -> Oid:
    return Oid(blake3(data).hexdigest())


def hash_file(path: str | os.PathLike[str]) -> Oid:
    """Hash a file's bytes. Large files are hashed in mmap windows on all cores; each window is
    unmapped before the next, so resident memory does not grow with the file size. Inside
    ``reporting(on_bytes)``, ``on_bytes`` is told of every window hashed."""
    on_bytes = ON_BYTES.get()
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size <= SMALL:
            oid = Oid(blake3(f.read()).hexdigest())
            if on_bytes is not None:
                on_bytes(size)
            log.debug("hashed %s (%d bytes): %s", os.fspath(path), size, oid)
            return oid
        h = blake3(max_threads=blake3.AUTO)
        off = 0
        while off < size:
            length = min(WINDOW, size - off)
            try:
                with mmap.mmap(f.fileno(), length, access=mmap.ACCESS_READ, offset=off) as mm:
                    h.update(mm)
            except ValueError:  # file shrank while hashing: hash what is there, caller re-stats
                break
            off += length
            if on_bytes is not None:
                on_bytes(length)
        # the file may have grown meanwhile; the caller compares stat before/after
        oid = Oid(h.hexdigest())
        log.debug("hashed %s (%d bytes): %s", os.fspath(path), size, oid)
        return oid
