"""pipever.api.open streams objects that are not in the cache from the remote (SPEC §4.1, §12):
a chunked big file a window of chunks at a time, each chunk verified, nothing written into the
cache; chunks that cached versions hold are read locally."""

from __future__ import annotations

import io
import random
import time
from pathlib import Path

import pytest

import pipever.api as api
from pipever.errors import CorruptObjectError
from pipever.objects.hashing import hash_bytes
from pipever.objects.odb import ObjectRef
from pipever.remote import chunking, packfmt
from pipever.remote.base import Remote
from pipever.remote.local import LocalRemote
from tests.helpers import gen, git, git_commit
from tests.s3server import RemoteCase, RequestLog

SIZE = 8 << 20


class Served:
    """Bytes and requests the remote served through pipever's range and whole-file reads."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.bytes = 0
        self.ranges: list[tuple[str, int, int]] = []
        for cls in (Remote, LocalRemote):  # the local one has its own file reads
            self._wrap(monkeypatch, cls)

    def _wrap(self, monkeypatch: pytest.MonkeyPatch, cls: type[Remote]) -> None:
        read_range, read_file = cls.read_range, cls.read_file

        def counted_range(rem: Remote, rel: str, start: int, end: int) -> bytes:
            data = read_range(rem, rel, start, end)
            self.bytes += len(data)
            self.ranges.append((rel, start, end))
            return data

        def counted_file(rem: Remote, rel: str) -> bytes:
            data = read_file(rem, rel)
            self.bytes += len(data)
            return data

        monkeypatch.setattr(cls, "read_range", counted_range)
        monkeypatch.setattr(cls, "read_file", counted_file)

    def reset(self) -> None:
        self.bytes = 0
        self.ranges.clear()


def _cached(root: Path) -> list[Path]:
    return sorted(p for p in (root / ".pv/cache").rglob("blake3/*/*") if p.is_file())


def _drop(root: Path, data: bytes) -> None:
    """Remove a file's object from the cache (the workspace copy stays; tests read at a revision)."""
    obj = root / ".pv/cache" / hash_bytes(data).relpath()
    obj.chmod(0o644)
    obj.unlink()


def _pushed(pv, remote: RemoteCase, data: bytes, name: str = "model.bin", threshold: str = "1MiB") -> None:  # type: ignore[no-untyped-def]
    gen({name: data})
    pv.ok("add", name)
    remote.configure(pv)
    pv.ok("remote", "modify", "storage", "pack_threshold", threshold)
    git("add", "-A")
    git_commit("data")
    pv.ok("push")


def _chunk_list(root: Path, data: bytes) -> list[chunking.Chunk]:
    listed = chunking.LocalChunks(root / ".pv/tmp/chunks", lambda oid: root / ".pv/cache" / oid.relpath()).get(hash_bytes(data))
    assert listed is not None and len(listed) > 8
    return listed


def test_a_chunked_file_streams_identical_with_no_cache_copy(pv_repo: Path, pv, packed_remote: RemoteCase,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    data = random.Random(1).randbytes(SIZE)
    _pushed(pv, packed_remote, data)
    assert len(_chunk_list(pv_repo, data)) > 8  # stored as chunks
    _drop(pv_repo, data)
    served = Served(monkeypatch)
    with api.open("model.bin", rev="HEAD", mode="rb") as f:
        assert not f.seekable()
        head = f.read(100)
        buf = bytearray(5000)
        n = f.readinto(buf)
        rest = f.read()
    assert head + bytes(buf[:n]) + rest == data
    assert SIZE <= served.bytes < SIZE + (1 << 20)  # the chunks once, plus the chunk list
    assert api.read("model.bin", rev="HEAD", mode="rb") == data
    (pv_repo / "model.bin").unlink()  # the workspace reads the pointer's object too
    assert api.read("model.bin", mode="rb") == data
    assert _cached(pv_repo) == []  # nothing was written into the cache


def test_reading_the_start_fetches_a_small_part_and_closing_stops(pv_repo: Path, pv, packed_remote: RemoteCase,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    data = random.Random(2).randbytes(SIZE)
    _pushed(pv, packed_remote, data)
    _drop(pv_repo, data)
    served = Served(monkeypatch)
    with api.open("model.bin", rev="HEAD", mode="rb") as f:
        assert f.read(100) == data[:100]
        after_first = served.bytes
    assert after_first < SIZE // 8, after_first  # the chunk list and the first window only
    assert served.bytes == after_first  # closed: nothing more was fetched
    packs = {rel for rel, _, _ in served.ranges}
    assert len(served.ranges) <= 4 and all(rel.startswith("packs/") for rel in packs), served.ranges


def test_closing_in_the_middle_stops_the_windows_fetched_ahead(pv_repo: Path, pv, packed_remote: RemoteCase,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    data = random.Random(11).randbytes(24 << 20)
    _pushed(pv, packed_remote, data)
    _drop(pv_repo, data)
    served = Served(monkeypatch)
    with api.open("model.bin", rev="HEAD", mode="rb") as f:
        got = b"".join(f.read(64 << 10) for _ in range(24))  # 1.5 MiB: windows ahead are in flight
    assert got == data[:len(got)]
    at_close = served.bytes
    # the windows read ahead (a few MiB), not the file; closing waited for them, nothing follows
    assert len(got) < at_close < 12 << 20, at_close
    time.sleep(0.3)
    assert served.bytes == at_close


def test_a_new_version_reads_its_unchanged_chunks_from_the_cached_old_one(
    pv_repo: Path, pv, packed_remote: RemoteCase, monkeypatch: pytest.MonkeyPatch,
) -> None:
    v1 = random.Random(3).randbytes(SIZE)
    _pushed(pv, packed_remote, v1)
    v2 = bytearray(v1)
    v2[SIZE // 2:SIZE // 2 + 1000] = random.Random(4).randbytes(1000)  # one edit in the middle
    v2 = bytes(v2)
    (pv_repo / "model.bin").chmod(0o644)
    (pv_repo / "model.bin").write_bytes(v2)
    pv.ok("add", "model.bin")
    git_commit("v2")
    pv.ok("push")
    _drop(pv_repo, v2)  # v1 stays in the cache
    served = Served(monkeypatch)
    assert api.read("model.bin", rev="HEAD", mode="rb") == v2
    assert served.bytes < SIZE // 10, served.bytes  # the changed chunks and the chunk list
    assert not (pv_repo / ".pv/cache" / hash_bytes(v2).relpath()).exists()
    # without the old version every chunk comes from the remote
    _drop(pv_repo, v1)
    served.reset()
    assert api.read("model.bin", rev="HEAD", mode="rb") == v2
    assert served.bytes >= SIZE


def _corrupt_chunk(pv_repo: Path, remote: RemoteCase, data: bytes) -> tuple[chunking.Chunk, str]:
    chunks = _chunk_list(pv_repo, data)
    victim = chunks[len(chunks) // 2]
    [pid] = [pid for pid, entries in remote._indexes().items()
             if any(e.kind == packfmt.CHUNK and e.ref.oid == victim.oid for e in entries)]
    remote.corrupt(ObjectRef(victim.oid, False).relpath)
    return victim, pid


def test_a_corrupt_chunk_is_named_and_no_corrupt_byte_is_handed_out(pv_repo: Path, pv, packed_remote: RemoteCase) -> None:
    data = random.Random(5).randbytes(SIZE)
    _pushed(pv, packed_remote, data)
    victim, pid = _corrupt_chunk(pv_repo, packed_remote, data)
    _drop(pv_repo, data)
    got = bytearray()
    with pytest.raises(CorruptObjectError) as exc, api.open("model.bin", rev="HEAD", mode="rb") as f:
        while piece := f.read(64 << 10):
            got += piece
    message = exc.value.render()
    assert f"'model.bin' ({hash_bytes(data)}) on remote 'storage' is corrupt" in message
    assert str(victim.oid) in message and f"packs/{pid}.pack" in message
    assert len(got) <= victim.offset and bytes(got) == data[:len(got)]  # only good bytes before it
    with pytest.raises(CorruptObjectError):  # api.read too; and nothing corrupt was cached
        api.read("model.bin", rev="HEAD", mode="rb")
    assert _cached(pv_repo) == []


def test_a_wrong_chunk_list_is_caught_by_the_files_hash(pv_repo: Path, pv, packed_remote: RemoteCase) -> None:
    """Every chunk verifies but the list orders them wrongly: the end of the stream says so."""
    remote = packed_remote
    data = random.Random(6).randbytes(4 << 20)
    _pushed(pv, remote, data)
    oid = hash_bytes(data)
    [(pid, entry)] = [(pid, e) for pid, entries in remote._indexes().items() for e in entries
                      if e.kind == packfmt.CHUNK_LIST and e.ref.oid == oid]
    pack = bytearray(remote.read(f"packs/{pid}.pack"))
    listed = chunking.decode(bytes(pack[entry.offset:entry.offset + entry.length]))
    swapped = [listed[1], listed[0], *listed[2:]]
    pack[entry.offset:entry.offset + entry.length] = chunking.encode(swapped)
    remote.write(f"packs/{pid}.pack", bytes(pack))
    _drop(pv_repo, data)
    with pytest.raises(CorruptObjectError, match=r"'model\.bin' .* is corrupt: its chunk list"):
        api.read("model.bin", rev="HEAD", mode="rb")
    assert _cached(pv_repo) == []


def test_an_unreadable_chunk_list_fails_open_itself(pv_repo: Path, pv, packed_remote: RemoteCase) -> None:
    data = random.Random(12).randbytes(4 << 20)
    _pushed(pv, packed_remote, data)
    packed_remote.corrupt(hash_bytes(data).relpath())  # the chunk list stands for its file
    _drop(pv_repo, data)
    with pytest.raises(CorruptObjectError) as exc:
        with api.open("model.bin", rev="HEAD", mode="rb"):
            pytest.fail("opened")
    assert f"'model.bin' ({hash_bytes(data)}) on remote 'storage' is corrupt" in exc.value.render()
    assert "its chunk list" in exc.value.render()
    assert _cached(pv_repo) == []


def test_text_mode_with_an_encoding_iterates_lines(pv_repo: Path, pv, packed_remote: RemoteCase) -> None:
    rng = random.Random(7)
    lines = [f"{i},ünïcödé,{rng.random():.12f},{'€' * (i % 7)}\n" for i in range(120_000)]
    text = "".join(lines)
    raw = text.encode("utf-16")  # not UTF-8: the encoding is honoured
    assert len(raw) > 4 << 20
    _pushed(pv, packed_remote, raw, name="table.csv")
    _drop(pv_repo, raw)
    with api.open("table.csv", rev="HEAD", encoding="utf-16") as f:
        assert isinstance(f, io.TextIOBase)
        assert f.readline() == lines[0]
        count = 1
        for got, want in zip(f, lines[1:]):
            assert got == want
            count += 1
    assert count == len(lines)
    assert api.read("table.csv", rev="HEAD", encoding="utf-16") == text
    assert _cached(pv_repo) == []


def test_a_big_loose_object_streams_and_a_corrupt_one_fails_at_its_end(pv_repo: Path, pv, loose_remote: RemoteCase) -> None:
    data = random.Random(8).randbytes(6 << 20)
    _pushed(pv, loose_remote, data)
    _drop(pv_repo, data)
    assert api.read("model.bin", rev="HEAD", mode="rb") == data
    assert _cached(pv_repo) == []  # streamed, not cached
    bad = bytearray(data)
    bad[-10] ^= 0xFF
    loose_remote.write(hash_bytes(data).relpath(), bytes(bad))
    with pytest.raises(CorruptObjectError, match=r"'model\.bin' .* on remote 'storage' is corrupt"):
        api.read("model.bin", rev="HEAD", mode="rb")
    assert _cached(pv_repo) == []


def test_a_small_object_is_downloaded_verified_into_the_cache(pv_repo: Path, pv, remote: RemoteCase) -> None:
    data = random.Random(9).randbytes(200_000)  # below the threshold: in a pack, or loose
    _pushed(pv, remote, data)
    _drop(pv_repo, data)
    assert api.read("model.bin", rev="HEAD", mode="rb") == data
    assert (pv_repo / ".pv/cache" / hash_bytes(data).relpath()).read_bytes() == data


def _pack_gets(log: RequestLog) -> list[str]:
    """GET requests of pack files (werkzeug may colour its lines: match inside them)."""
    return [line for line in log.lines if "GET /" in line and ".pack HTTP" in line]


@pytest.mark.s3
def test_on_s3_the_start_of_a_big_file_costs_a_few_range_requests(
    pv_repo: Path, pv, s3_server, s3_requests: RequestLog, aws_env,  # type: ignore[no-untyped-def]
) -> None:
    from tests.s3server import s3_case

    remote = s3_case(s3_server)
    data = random.Random(10).randbytes(SIZE)
    _pushed(pv, remote, data)
    _drop(pv_repo, data)
    s3_requests.clear()
    with api.open("model.bin", rev="HEAD", mode="rb") as f:
        assert f.read(100) == data[:100]
    pack_gets = _pack_gets(s3_requests)
    assert 1 <= len(pack_gets) <= 3, s3_requests.lines  # the chunk list, the first window
    s3_requests.clear()
    assert api.read("model.bin", rev="HEAD", mode="rb") == data
    pack_gets = _pack_gets(s3_requests)
    # windows of up to 4 MiB: a handful of merged range requests, not one per chunk
    assert 2 <= len(pack_gets) <= 12, len(pack_gets)
    assert _cached(pv_repo) == []
