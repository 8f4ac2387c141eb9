"""``remote.direct.put_stream``: data read once from a source, hashed on the way, stored as
``pv push`` stores it (small files in packs, big ones as chunks plus a chunk list, loose objects
on a loose remote), with nothing named before it is complete and checked."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipever.errors import PvError
from pipever.objects.hashing import hash_bytes
from pipever.objects.oid import Oid
from pipever.remote import chunking, direct, packfmt, url
from pipever.remote.base import Remote
from pipever.remote.local import LocalRemote


def _pieces(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i:i + size]


def _remote(tmp_path: Path, cls: type[Remote] = Remote, **options: str) -> Remote:
    rem = cls("r", url.parse(str(tmp_path / "remote")), {"pack_threshold": "64KiB", "pack_size": "256KiB", **options})
    rem.index_cache = tmp_path / "idx-cache"
    return rem


def _entries(root: Path) -> list[packfmt.Entry]:
    return [e for p in sorted((root / "packs").glob("*.idx")) for e in packfmt.decode_index(p.read_bytes())]


@pytest.mark.parametrize("piece", [1, 7, 4096, 1 << 20])
def test_tee_hands_out_every_byte_once_and_hashes_it(piece: int) -> None:
    data = random.Random(1).randbytes(20_000 if piece == 1 else 300_000)
    tee = direct._Tee(_pieces(data, piece))
    head = tee.read_upto(5000)
    assert head == data[:5000] and tee.size == 5000
    tee.push_back(head)
    out = bytearray()
    buf = bytearray(3000)
    while n := tee.readinto(memoryview(buf)):
        out += buf[:n]
    assert bytes(out) == data
    assert tee.size == len(data) and tee.oid() == hash_bytes(data)


def test_tee_read_upto_stops_at_the_end() -> None:
    tee = direct._Tee(_pieces(b"abc", 2))
    assert tee.read_upto(10) == b"abc" and tee.oid() == hash_bytes(b"abc") and tee.size == 3


@pytest.mark.parametrize("cls", [Remote, LocalRemote], ids=["fsspec-local", "stdlib-local"])
def test_big_data_becomes_chunks_in_packs_and_a_chunk_list(tmp_path: Path, cls: type[Remote]) -> None:
    rem = _remote(tmp_path, cls)
    data = random.Random(2).randbytes(1_000_000)
    oid, size = direct.put_stream(rem, _pieces(data, 100_000))
    assert (oid, size) == (hash_bytes(data), len(data))
    entries = _entries(tmp_path / "remote")
    chunks = [e for e in entries if e.kind == packfmt.CHUNK]
    lists = [e for e in entries if e.kind == packfmt.CHUNK_LIST]
    assert [e.ref.oid for e in lists] == [oid]
    # the same chunks a push cuts from the file, each stored once, in packs of at most pack_size
    src = tmp_path / "f.bin"
    src.write_bytes(data)
    cut = chunking.cut_file(src, packfmt.Chunking())
    assert {e.ref.oid for e in chunks} == {c.oid for c in cut}
    assert len(chunks) == len({c.oid for c in cut})
    packs = {p.stem: p.stat().st_size for p in (tmp_path / "remote/packs").glob("*.pack")}
    assert len(packs) >= 4 and all(n <= 256 << 10 for n in packs.values())
    assert not [p for p in (tmp_path / "remote").rglob("*") if p.name.endswith(".pvtmp") or "incoming" in p.name]
    # what the remote holds rebuilds the file
    fresh = _remote(tmp_path, cls)
    rebuilt = b"".join(_chunk(fresh, c.oid) for c in fresh.packs.read_chunk_list(oid))
    assert rebuilt == data


def _chunk(rem: Remote, oid: Oid) -> bytes:
    loc = rem.packs.chunk_locations(oid)[0]
    return rem.read_range(f"packs/{loc.pack}.pack", loc.offset, loc.offset + loc.length)


def test_a_second_stream_sends_only_new_chunks(tmp_path: Path) -> None:
    rem = _remote(tmp_path)
    data = random.Random(3).randbytes(800_000)
    direct.put_stream(rem, _pieces(data, 65536))
    before = {e.ref.oid for e in _entries(tmp_path / "remote") if e.kind == packfmt.CHUNK}
    v2 = data[:400_000] + b"inserted" + data[400_000:]
    direct.put_stream(_remote(tmp_path), _pieces(v2, 65536))
    new = [e for e in _entries(tmp_path / "remote") if e.kind == packfmt.CHUNK and e.ref.oid not in before]
    assert 1 <= len(new) <= 3


def test_small_data_goes_into_a_pack_or_to_the_batch(tmp_path: Path) -> None:
    rem = _remote(tmp_path)
    oid, size = direct.put_stream(rem, _pieces(b"hello", 2))
    assert oid == hash_bytes(b"hello") and size == 5
    assert [(e.ref.oid, e.kind) for e in _entries(tmp_path / "remote")] == [(oid, packfmt.FILE)]
    batch = direct.SmallBatch(rem)
    for i in range(5):
        direct.put_stream(rem, [f"file {i}".encode()], small=batch.add)
    direct.put_stream(rem, [b"hello"], small=batch.add)  # on the remote already: skipped
    assert len(_entries(tmp_path / "remote")) == 1
    batch.flush()
    assert len(list((tmp_path / "remote/packs").glob("*.idx"))) == 2  # one pack for the five
    assert len(_entries(tmp_path / "remote")) == 6


def test_a_loose_remote_gets_one_object(tmp_path: Path) -> None:
    rem = _remote(tmp_path, layout="loose")
    data = random.Random(4).randbytes(300_000)
    oid, _ = direct.put_stream(rem, _pieces(data, 1 << 16))
    assert (tmp_path / "remote" / oid.relpath()).read_bytes() == data
    assert not (tmp_path / "remote/packs").exists()


@pytest.mark.parametrize("layout", ["packed", "loose"])
def test_a_refusing_check_or_a_failing_source_names_nothing(tmp_path: Path, layout: str) -> None:
    rem = _remote(tmp_path, layout=layout)
    data = random.Random(5).randbytes(900_000)

    def refuse() -> None:
        raise PvError("changed")

    with pytest.raises(PvError, match="changed"):
        direct.put_stream(rem, _pieces(data, 1 << 16), check=refuse)

    def failing() -> Iterator[bytes]:
        yield from _pieces(data[:600_000], 1 << 16)
        raise OSError("connection reset")

    with pytest.raises(direct.SourceReadError, match="connection reset"):
        direct.put_stream(_remote(tmp_path, layout=layout), failing())
    root = tmp_path / "remote"
    names = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]
    assert not [n for n in names if n.endswith(".pvtmp") or n.startswith("blake3/")]
    assert not [e for e in (_entries(root) if layout == "packed" else []) if e.kind == packfmt.CHUNK_LIST]
    for idx in (root / "packs").glob("*.idx") if layout == "packed" else ():
        assert idx.with_suffix(".pack").is_file()
