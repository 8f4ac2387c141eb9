"""The pieces of a streaming read: growing windows of chunks, merged range reads, the raw reader."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from pipever.objects.hashing import hash_bytes
from pipever.remote import packfmt as pf
from pipever.remote.chunkfetch import plan_chunk_reads
from pipever.remote.chunking import Chunk, growing_windows
from pipever.remote.stream import PieceReader

KiB = 1 << 10


def _chunks(sizes: list[int]) -> list[Chunk]:
    out, at = [], 0
    for i, n in enumerate(sizes):
        out.append(Chunk(hash_bytes(i.to_bytes(4, "big")), at, n))
        at += n
    return out


def test_windows_start_small_double_and_stop_growing_at_the_cap() -> None:
    chunks = _chunks([64 * KiB] * 400)  # 25 MiB
    windows = list(growing_windows(chunks, 256 * KiB, 4 << 20))
    assert [c for w in windows for c in w] == chunks  # every chunk once, in order
    sizes = [sum(c.length for c in w) for w in windows]
    assert sizes[:5] == [256 * KiB, 512 * KiB, 1 << 20, 2 << 20, 4 << 20]
    assert max(sizes) == 4 << 20 and all(s == 4 << 20 for s in sizes[4:-1])


def test_windows_of_uneven_chunks_hold_at_most_the_cap_plus_one_chunk() -> None:
    sizes = [(i * 7919) % (256 * KiB) + 16 * KiB for i in range(300)]
    windows = list(growing_windows(_chunks(sizes), 100 * KiB, 1 << 20))
    assert [c.length for w in windows for c in w] == sizes
    assert all(sum(c.length for c in w) < (1 << 20) + 256 * KiB for w in windows)
    assert sum(c.length for c in windows[0]) < 100 * KiB + 272 * KiB


def test_windows_of_nothing_and_of_a_first_size_above_the_cap() -> None:
    assert list(growing_windows([], 1, 1)) == []
    chunks = _chunks([10, 10, 10])
    assert list(growing_windows(chunks, 100, 10)) == [[c] for c in chunks]


def _at(pack: str, offset: int, length: int) -> pf.Location:
    return pf.Location(pack, offset, length)


def test_neighbouring_chunks_share_a_read_and_far_ones_do_not() -> None:
    a, b, c, d, e = (hash_bytes(bytes([i])) for i in range(5))
    wanted = {
        a: _at("p1", 0, 100), b: _at("p1", 100, 50),  # adjacent
        c: _at("p1", 200, 10),  # a 50-byte gap: merged
        d: _at("p1", 10_000, 10),  # far: its own read
        e: _at("p2", 0, 5),  # another pack: its own read
    }
    reads = plan_chunk_reads(wanted, max_gap=64, max_block=1 << 20)
    assert [(p, s, t, [o for o, _ in inside]) for p, s, t, inside in reads] == [
        ("p1", 0, 210, [a, b, c]), ("p1", 10_000, 10_010, [d]), ("p2", 0, 5, [e]),
    ]


def test_a_merged_read_never_exceeds_the_block_size_and_covers_every_chunk_once() -> None:
    wanted = {hash_bytes(i.to_bytes(4, "big")): _at("p", i * 1000, 1000) for i in range(100)}
    reads = plan_chunk_reads(wanted, max_gap=0, max_block=10_000)
    assert len(reads) == 10
    assert all(t - s <= 10_000 for _, s, t, _ in reads)
    inside = [o for _, _, _, objs in reads for o, _ in objs]
    assert sorted(inside, key=lambda o: o.hex) == sorted(wanted, key=lambda o: o.hex)
    for _, s, t, objs in reads:
        assert all(s <= loc.offset and loc.offset + loc.length <= t for _, loc in objs)


def _reader(pieces: list[bytes], closed: list[str] | None = None) -> PieceReader:
    def gen() -> Iterator[bytes]:
        try:
            yield from pieces
        finally:
            if closed is not None:
                closed.append("pieces")

    return PieceReader(gen(), (lambda: closed.append("remote")) if closed is not None else None)


def test_the_reader_reads_across_pieces() -> None:
    raw = _reader([b"abc", b"", b"defgh", b"i"])
    buf = bytearray(4)
    assert raw.readinto(buf) == 3 and buf[:3] == b"abc"  # at most one piece per raw read
    assert raw.read(2) == b"de"
    assert raw.readall() == b"fghi"
    assert raw.read(10) == b""
    f = io.BufferedReader(_reader([b"x" * 10, b"y" * 10]), buffer_size=4)
    assert f.read(15) == b"x" * 10 + b"y" * 5 and f.read() == b"y" * 5


def test_text_lines_span_pieces() -> None:
    data = "één\ntwee\ndrie\n".encode()
    pieces = [data[i:i + 3] for i in range(0, len(data), 3)]  # splits inside 'é'
    with io.TextIOWrapper(io.BufferedReader(_reader(pieces)), encoding="utf-8") as f:
        assert list(f) == ["één\n", "twee\n", "drie\n"]


def test_an_error_is_raised_again_never_an_end_of_file() -> None:
    def gen() -> Iterator[bytes]:
        yield b"good"
        raise ValueError("bad chunk")

    raw = PieceReader(gen())
    assert raw.read(10) == b"good"
    for _ in range(2):
        with pytest.raises(ValueError, match="bad chunk"):
            raw.read(10)


def test_closing_early_stops_the_pieces_and_closes_the_source() -> None:
    closed: list[str] = []
    pulled: list[int] = []

    def pieces() -> Iterator[bytes]:
        try:
            for i in range(1000):
                pulled.append(i)
                yield b"z" * 1000
        finally:
            closed.append("pieces")

    raw = PieceReader(pieces(), lambda: closed.append("remote"))
    with io.BufferedReader(raw) as f:
        assert f.read(10) == b"z" * 10
    assert closed == ["pieces", "remote"] and len(pulled) <= 9  # the buffer's worth at most
    with pytest.raises(ValueError):
        raw.read(1)
    raw.close()  # twice is fine
    assert closed == ["pieces", "remote"]
