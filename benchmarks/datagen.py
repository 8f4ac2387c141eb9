"""Deterministic benchmark data: one large file, a tree of small files, and edits to it.

Everything is derived from a seed, so every run (and both tools in a comparison) sees the same
bytes. ``random.randbytes`` alone runs at ~120 MB/s, too slow for a 2 GiB file, so the large file
is built from a 1 MiB random pool: chunk *i* is the pool rotated by a seeded odd offset with the
chunk number written over its first 8 bytes. No two 4 KiB blocks repeat at the same alignment,
and generation runs at memory-copy speed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20
MIN_FILE = 1024
MAX_FILE = 8 * 1024
FILES_PER_DIR = 200


@dataclass(frozen=True)
class TreeFile:
    """One file of a generated tree: repo-relative POSIX path and size in bytes."""

    path: str
    size: int


def chunk_stream(size: int, *, seed: int) -> Iterator[bytes]:
    """Yield ``size`` deterministic bytes in chunks of at most 1 MiB."""
    rng = random.Random(seed)
    pool = rng.randbytes(CHUNK)
    left = size
    index = 0
    while left > 0:
        offset = rng.randrange(1, CHUNK, 2)
        n = min(CHUNK, left)
        chunk = index.to_bytes(8, "big") + pool[offset:] + pool[:offset]
        yield chunk[:n]
        left -= n
        index += 1


def write_big_file(path: Path, size: int, *, seed: int = 1) -> None:
    """Write ``size`` deterministic bytes to ``path``."""
    with open(path, "wb") as fh:
        for chunk in chunk_stream(size, seed=seed):
            fh.write(chunk)


def tree_layout(n_files: int, *, seed: int = 2) -> list[TreeFile]:
    """Paths and sizes (1–8 KiB) of a tree of ``n_files`` files, 200 per sub-directory."""
    rng = random.Random(seed)
    return [
        TreeFile(
            f"d{i // FILES_PER_DIR:03d}/f{i % FILES_PER_DIR:03d}.bin",
            rng.randint(MIN_FILE, MAX_FILE),
        )
        for i in range(n_files)
    ]


def file_bytes(pool: bytes, rng: random.Random, tag: str, size: int) -> bytes:
    """Unique content for one small file: its tag, then a seeded slice of the pool."""
    head = f"{tag}\n".encode()
    start = rng.randrange(0, len(pool) - MAX_FILE)
    return (head + pool[start : start + size])[:size]


def write_tree(root: Path, layout: list[TreeFile], *, seed: int = 2) -> int:
    """Write the files of ``layout`` under ``root``; return the total number of bytes."""
    rng = random.Random(seed)
    pool = rng.randbytes(CHUNK)
    total = 0
    made: set[Path] = set()
    for index, item in enumerate(layout):
        target = root / item.path
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        target.write_bytes(file_bytes(pool, rng, f"{seed}:{index}:{item.path}", item.size))
        total += item.size
    return total


def change_files(root: Path, layout: list[TreeFile], count: int, *, seed: int = 3) -> list[str]:
    """Rewrite ``count`` seeded files of the tree with new content one byte longer."""
    rng = random.Random(seed)
    pool = rng.randbytes(CHUNK)
    chosen = sorted(rng.sample(range(len(layout)), min(count, len(layout))))
    changed: list[str] = []
    for index in chosen:
        item = layout[index]
        data = file_bytes(pool, rng, f"changed:{seed}:{index}", item.size + 1)
        (root / item.path).write_bytes(data)
        changed.append(item.path)
    return changed
