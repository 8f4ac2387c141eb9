"""``pv import-url --to-remote``, ``pv update --to-remote`` and big files of ``pv add --to-remote``
(SPEC §6, §4.1): data streamed from its source to a remote without a cache or workspace copy,
big files as chunk lists plus chunks in packs, failures that leave nothing half-named."""

from __future__ import annotations

import hashlib
import http.server
import os
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from pipever.objects.hashing import hash_bytes
from pipever.remote import packfmt
from tests.helpers import PvRunner, gen, git, git_commit
from tests.httpserve import serve, serve_dir
from tests.s3server import RemoteCase, S3Server, _aws_env, s3_case

THRESHOLD = "64KiB"


def _setup(pv: PvRunner, remote: RemoteCase) -> None:
    remote.configure(pv)
    pv.ok("remote", "modify", "storage", "pack_threshold", THRESHOLD)
    git("add", ".pv/config.yaml")
    git_commit("remote")


def _clone_pull(src: Path, remote: RemoteCase, pv: PvRunner) -> Path:
    git("add", "-A")
    git_commit("imported")
    dst = src.parent / "clone"
    git("clone", "-q", str(src), str(dst))
    for k, v in remote.local_options.items():
        pv.ok("remote", "modify", "--local", "storage", k, v, cwd=dst)
    pv.ok("pull", cwd=dst)
    return dst


def _entries(remote: RemoteCase) -> list[packfmt.Entry]:
    return [e for entries in remote._indexes().values() for e in entries]


def _cache_files(root: Path) -> list[Path]:
    return [p for p in (root / ".pv/cache").rglob("*") if p.is_file()]


def _assert_chunked(remote: RemoteCase, data: bytes) -> None:
    """``data`` is on the remote as a chunk list plus chunks, as ``pv push`` stores big files."""
    oid = hash_bytes(data)
    entries = _entries(remote)
    if remote.layout == "loose":
        assert oid.relpath() in remote.objects()
        assert not entries
        return
    assert [e.ref.oid for e in entries if e.kind == packfmt.CHUNK_LIST].count(oid) == 1
    assert not any(e.ref.oid == oid and e.kind == packfmt.FILE for e in entries)
    chunks = {e.ref.oid: e.length for e in entries if e.kind == packfmt.CHUNK}
    assert len(chunks) >= 2 and sum(chunks.values()) >= len(data)
    assert not any(r.startswith("blake3/") for r in remote.objects())


def test_import_url_to_remote_from_a_local_file_and_folder(
        pv_repo: Path, pv: PvRunner, remote: RemoteCase, tmp_path: Path) -> None:
    _setup(pv, remote)
    src = tmp_path / "src"
    big = random.Random(1).randbytes(400_000)
    gen({"big.bin": big, "set": {"a.txt": "a", "sub": {"b.bin": random.Random(2).randbytes(90_000)},
                                 "c.txt": "c" * 100}}, src)
    res = pv.ok("import-url", "--to-remote", (src / "big.bin").as_uri(), "data/big.bin")
    assert res.stdout.startswith("Imported data/big.bin (390.6 KiB) from file://")
    pv.ok("import-url", "--to-remote", (src / "set").as_uri(), "set")
    # no workspace copy, no cache copy but the folder's manifest
    assert not (pv_repo / "data/big.bin").exists() and not (pv_repo / "set").exists()
    assert [p.name.endswith(".dir") for p in _cache_files(pv_repo)] == [True]
    assert "/big.bin" in (pv_repo / "data/.gitignore").read_text()
    assert {"data/big.bin.pv", "set.pv"} <= set(git("diff", "--cached", "--name-only").split())
    assert remote.unsound() == []
    _assert_chunked(remote, big)
    assert not any(r.endswith(".pvtmp") for r in remote.objects())
    # the pointers are exactly those of a plain import-url
    plain = tmp_path / "plain"
    git("init", "-q", str(plain))
    pv.ok("init", cwd=plain)
    pv.ok("import-url", (src / "big.bin").as_uri(), "data/big.bin", cwd=plain)
    pv.ok("import-url", (src / "set").as_uri(), "set", cwd=plain)
    for name in ("data/big.bin.pv", "set.pv"):
        assert (pv_repo / name).read_text() == (plain / name).read_text()
    clone = _clone_pull(pv_repo, remote, pv)
    assert (clone / "data/big.bin").read_bytes() == big
    assert (clone / "set/sub/b.bin").read_bytes() == (src / "set/sub/b.bin").read_bytes()
    assert (clone / "set/a.txt").read_text() == "a"
    assert pv.ok("status", cwd=clone).stdout == "Data and pipelines are up to date.\n"


def test_import_url_to_remote_over_http_then_update_to_remote(
        pv_repo: Path, pv: PvRunner, packed_remote: RemoteCase, tmp_path: Path) -> None:
    remote = packed_remote
    _setup(pv, remote)
    served = tmp_path / "served"
    served.mkdir()
    v1 = random.Random(3).randbytes(300_000)
    (served / "model.bin").write_bytes(v1)
    with serve_dir(served, etag=True) as base:
        url = f"{base}/model.bin"
        pv.ok("import-url", "--to-remote", url)
        pointer = yaml.safe_load((pv_repo / "model.bin.pv").read_text())
        assert pointer["deps"] == [{"path": url, "etag": '"' + hashlib.md5(v1).hexdigest() + '"', "size": 300_000}]
        assert pointer["outs"] == [{"path": "model.bin", "oid": str(hash_bytes(v1)), "size": 300_000}]
        assert not _cache_files(pv_repo) and not (pv_repo / "model.bin").exists()
        _assert_chunked(remote, v1)
        assert pv.ok("update", "--to-remote").stdout == "model.bin.pv is up to date\n"
        v2 = v1[:100_000] + b"an edit in the middle" + v1[100_000:]
        (served / "model.bin").write_bytes(v2)
        before = {e.ref.oid for e in _entries(remote) if e.kind == packfmt.CHUNK}
        res = pv.ok("update", "--to-remote", "-r", "storage", "model.bin.pv")
        assert res.stdout.startswith("Updated model.bin (293.0 KiB)")
        after = [e for e in _entries(remote) if e.kind == packfmt.CHUNK and e.ref.oid not in before]
        assert 0 < sum(e.length for e in after) < len(v2) // 2  # only the chunks around the edit
        assert yaml.safe_load((pv_repo / "model.bin.pv").read_text())["outs"][0]["oid"] == str(hash_bytes(v2))
        assert not _cache_files(pv_repo) and not (pv_repo / "model.bin").exists()
        # without an ETag pv records the md5, and checks the bytes it streamed against it
        (served / "plain.csv").write_bytes(b"x,y\n" * 50)
    with serve_dir(served) as base:
        pv.ok("import-url", "--to-remote", f"{base}/plain.csv")
        assert yaml.safe_load((pv_repo / "plain.csv.pv").read_text())["deps"][0]["checksum"] == \
            "md5:" + hashlib.md5(b"x,y\n" * 50).hexdigest()
    assert remote.unsound() == []
    clone = _clone_pull(pv_repo, remote, pv)
    assert (clone / "model.bin").read_bytes() == v2
    assert (clone / "plain.csv").read_bytes() == b"x,y\n" * 50


def test_import_url_to_remote_from_s3_to_s3(
        pv_repo: Path, pv: PvRunner, s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _aws_env(monkeypatch, tmp_path)
    remote = s3_case(s3_server)
    _setup(pv, remote)
    source = s3_case(s3_server)  # another bucket, reached through a remote's options
    bucket = source.url.split("/")[2]
    pv.ok("remote", "add", "src", f"s3://{bucket}")
    for k, v in source.local_options.items():
        pv.ok("remote", "modify", "--local", "src", k, v)
    files = {f"images/f{i}.png": random.Random(i).randbytes(500 + i) for i in range(20)}
    files["images/big.raw"] = random.Random(99).randbytes(200_000)
    for rel, data in files.items():
        source.fs.pipe_file(f"{bucket}/{rel}", data)
    res = pv.ok("import-url", "--to-remote", f"s3://{bucket}/images", "images")
    assert res.stdout.startswith("Imported images (21 files")
    pointer = yaml.safe_load((pv_repo / "images.pv").read_text())
    assert pointer["deps"][0]["path"] == f"s3://{bucket}/images" and pointer["outs"][0]["nfiles"] == 21
    assert [p.name.endswith(".dir") for p in _cache_files(pv_repo)] == [True]
    assert remote.unsound() == []
    _assert_chunked(remote, files["images/big.raw"])
    # the 20 small files share packs (not a pack each), the manifest included
    assert len(remote._indexes()) <= 6
    clone = _clone_pull(pv_repo, remote, pv)
    for rel, data in files.items():
        assert (clone / rel).read_bytes() == data


def test_to_remote_usage_errors(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    (tmp_path / "f.bin").write_bytes(b"data")
    url = (tmp_path / "f.bin").as_uri()
    res = pv("import-url", "-r", "storage", url)
    assert res.exit_code == 2 and "--to-remote" in res.stderr
    assert pv("update", "-r", "storage").exit_code == 2
    res = pv("import-url", "--to-remote", url)
    assert res.exit_code == 1 and res.stderr.startswith("ERROR: ") and "remote" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (pv_repo / "f.bin.pv").exists()


class _Flaky(http.server.BaseHTTPRequestHandler):
    """Serves ``data`` with an ETag; a GET sends only ``cut`` bytes and, a moment later, drops
    the connection."""

    data = b""
    cut = 0

    def log_message(self, *args: object) -> None:
        return None

    def _head(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.data)))
        self.send_header("ETag", '"flaky-1"')
        self.end_headers()

    def do_HEAD(self) -> None:
        self._head()

    def do_GET(self) -> None:
        self._head()
        self.wfile.write(self.data[:self.cut])
        self.wfile.flush()
        if self.cut < len(self.data):
            time.sleep(1.5)  # pv reads (and stores) what arrived before it learns of the cut
        self.close_connection = True


@pytest.fixture
def flaky() -> Iterator[str]:
    _Flaky.data = random.Random(5).randbytes(3_000_000)
    _Flaky.cut = 2_200_000  # two whole pieces of 1 MiB arrive
    with serve(_Flaky) as url:
        yield f"{url}/data.bin"


def test_a_source_failing_mid_stream_leaves_nothing_named(
        pv_repo: Path, pv: PvRunner, packed_remote: RemoteCase, flaky: str) -> None:
    remote = packed_remote
    _setup(pv, remote)
    pv.ok("remote", "modify", "storage", "pack_size", "256KiB")  # some packs complete before the cut
    res = pv("import-url", "--to-remote", flaky, "data.bin")
    assert res.exit_code == 1 and res.stderr.startswith("ERROR: ") and "Traceback" not in res.stderr, res
    assert not (pv_repo / "data.bin.pv").exists() and not _cache_files(pv_repo)
    assert remote.unsound() == []  # no index names a missing pack
    names = remote.objects()
    assert not any(n.endswith(".pvtmp") or n.startswith("blake3/") for n in names)
    assert not any(e.kind == packfmt.CHUNK_LIST for e in _entries(remote))  # the file has no name
    assert any(e.kind == packfmt.CHUNK for e in _entries(remote))  # whole packs before the cut stay
    # a rerun against a healthy source completes and reuses those chunks
    _Flaky.cut = len(_Flaky.data)
    pv.ok("import-url", "--to-remote", flaky, "data.bin")
    assert remote.unsound() == []
    _assert_chunked(remote, _Flaky.data)
    assert (pv_repo / "data.bin.pv").exists()


def test_a_file_changed_while_streaming_is_refused(
        pv_repo: Path, pv: PvRunner, remote: RemoteCase, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipever.remote import direct

    _setup(pv, remote)
    data = random.Random(6).randbytes(1_500_000)  # two pieces: the change lands after the first
    gen({"model.bin": data})
    real = direct.file_pieces

    def changing(path: Path) -> Iterator[bytes]:
        for i, piece in enumerate(real(path)):
            yield piece
            if i == 0:
                with open(path, "r+b") as f:
                    f.write(b"changed!")
                st = os.stat(path)
                os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))

    monkeypatch.setattr(direct, "file_pieces", changing)
    res = pv("add", "--to-remote", "model.bin")
    assert res.exit_code == 1 and "'model.bin' changed while it was being added" in res.stderr
    assert not (pv_repo / "model.bin.pv").exists()
    assert remote.unsound() == []
    assert not any(e.kind == packfmt.CHUNK_LIST for e in _entries(remote))
    assert not any(n.startswith("blake3/") or n.endswith(".pvtmp") for n in remote.objects())
    monkeypatch.setattr(direct, "file_pieces", real)
    pv.ok("add", "--to-remote", "model.bin")
    assert (pv_repo / "model.bin.pv").exists()


def test_import_url_source_changed_while_streaming_is_refused(
        pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    remote_dir = tmp_path / "st"
    pv.ok("remote", "add", "-d", "storage", str(remote_dir))
    pv.ok("remote", "modify", "storage", "pack_threshold", THRESHOLD)
    served = tmp_path / "served"
    served.mkdir()
    data = random.Random(7).randbytes(200_000)
    (served / "x.bin").write_bytes(data)

    class Changing(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a: object, **kw: object) -> None:
            super().__init__(*a, directory=str(served), **kw)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            return None

        def end_headers(self) -> None:
            path = self.translate_path(self.path)
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    self.send_header("ETag", '"' + hashlib.md5(f.read()).hexdigest() + '"')
            super().end_headers()

        def do_GET(self) -> None:
            super().do_GET()
            (served / "x.bin").write_bytes(data[::-1])  # a new version lands while pv reads

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Changing)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        res = pv("import-url", "--to-remote", f"http://127.0.0.1:{server.server_address[1]}/x.bin")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert res.exit_code == 1 and "changed while it was being read" in res.stderr
    assert not (pv_repo / "x.bin.pv").exists()
    indexes = [packfmt.decode_index(p.read_bytes()) for p in (remote_dir / "packs").glob("*.idx")]
    assert not any(e.kind == packfmt.CHUNK_LIST for entries in indexes for e in entries)


def test_big_add_to_remote_is_chunked_and_a_new_version_pushes_only_changed_chunks(
        pv_repo: Path, pv: PvRunner, packed_remote: RemoteCase) -> None:
    remote = packed_remote
    _setup(pv, remote)
    v1 = random.Random(8).randbytes(1_000_000)
    gen({"model.bin": v1})
    pv.ok("add", "--to-remote", "model.bin")
    assert not _cache_files(pv_repo)
    _assert_chunked(remote, v1)
    first = {e.ref.oid for e in _entries(remote) if e.kind == packfmt.CHUNK}
    git("add", "-A")
    git_commit("v1")
    # a second version, the normal way: only the chunks around the edit are sent
    v2 = bytearray(v1)
    v2[500_000:500_100] = b"z" * 100
    (pv_repo / "model.bin").write_bytes(bytes(v2))
    pv.ok("add", "model.bin")
    pv.ok("push")
    new = [e for e in _entries(remote) if e.kind == packfmt.CHUNK and e.ref.oid not in first]
    assert 1 <= len(new) <= 3 and sum(e.length for e in new) <= 300_000
    assert remote.unsound() == []
    clone = _clone_pull(pv_repo, remote, pv)
    assert (clone / "model.bin").read_bytes() == bytes(v2)
    git("checkout", "-q", "HEAD~1", "--", "model.bin.pv", cwd=clone)
    pv.ok("pull", cwd=clone)
    assert (clone / "model.bin").read_bytes() == v1


def test_plain_update_of_a_to_remote_import_downloads_as_import_url_does(
        pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    pv.ok("remote", "add", "-d", "storage", str(tmp_path / "st"))
    src = tmp_path / "src.bin"
    src.write_bytes(b"version 1")
    pv.ok("import-url", "--to-remote", src.as_uri(), "d.bin")
    assert not (pv_repo / "d.bin").exists()
    assert pv.ok("update").stdout == "d.bin.pv is up to date\n"
    src.write_bytes(b"version 2!")
    assert pv.ok("update", "d.bin.pv").stdout.startswith("Updated d.bin (10 B)")
    assert (pv_repo / "d.bin").read_bytes() == b"version 2!"  # into the cache and workspace
    assert len(_cache_files(pv_repo)) == 1
    # --to-remote refuses imports from repositories when named
    gen({"other.bin": "x"})
    pv.ok("add", "other.bin")
    res = pv("update", "--to-remote", "other.bin.pv")
    assert res.exit_code == 1 and "URL imports only" in res.stderr
