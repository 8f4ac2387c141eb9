"""What the pack layer needs of a remote (``PackHost``, which ``base.Remote`` is), and a small
thread map; below ``base``, ``packs`` and ``chunkfetch`` so that none of them imports another back."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class PackHost(Protocol):
    """The remote a ``PackStore`` reads and writes through (``pipever.remote.base.Remote``)."""

    name: str
    spec: Any
    chunk_dir: Path | None

    @property
    def display(self) -> str: ...

    @property
    def jobs(self) -> int: ...

    @property
    def writable(self) -> bool: ...

    @property
    def pack_size(self) -> int: ...

    def list_dir(self, rel: str) -> dict[str, float | None]: ...

    def read_file(self, rel: str) -> bytes: ...

    def read_range(self, rel: str, start: int, end: int) -> bytes: ...

    def write_file(self, rel: str, data: bytes) -> None: ...

    def write_stream(self, rel: str, chunks: Iterable[bytes], *, part_size: int | None = None) -> None: ...

    def remove_file(self, rel: str) -> None: ...

    def move_file(self, src: str, dst: str) -> None: ...


def map_concurrently(fn: Callable[[Any], T], items: list[Any], *, jobs: int) -> list[T]:
    """``[fn(x) for x in items]`` on ``jobs`` threads; the first error is raised."""
    if len(items) <= 1 or jobs <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=min(jobs, len(items)), thread_name_prefix="pv-remote") as pool:
        return list(pool.map(fn, items))
