"""Remotes for tests: the moto S3 server (a real HTTP S3 endpoint on 127.0.0.1, reached by s3fs
through ``endpoint_url``; never a mocked client) that counts requests and body bytes each way
(``S3Server.traffic``), a TCP gate that can cut the network to it, and the ``remote`` fixture
that runs a test once on a local-folder remote and once on S3.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from benchmarks.s3server import CountingMotoServer, Traffic

KEY_ID = "pv-test-key-id"
SECRET = "pv-test-secret-9f8a7b6c"  # distinctive, so tests can assert it is never printed
REGION = "us-east-1"


def _aws_env(monkeypatch: pytest.MonkeyPatch, tmp: Path) -> None:
    """No real AWS configuration, and no instance-metadata lookups off this machine."""
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp / "no-aws-credentials"))
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)


@dataclass
class S3Server:
    endpoint: str
    _server: Any = None

    def traffic(self) -> Traffic:
        """Requests answered and body bytes received/served so far (compare two snapshots)."""
        traffic: Traffic = self._server.traffic()
        return traffic

    def fs(self, endpoint: str | None = None) -> Any:
        import s3fs

        return s3fs.S3FileSystem(
            key=KEY_ID, secret=SECRET, endpoint_url=endpoint or self.endpoint, skip_instance_cache=True,
            use_listings_cache=False, client_kwargs={"region_name": REGION},
        )

    def new_bucket(self) -> str:
        import boto3

        name = f"pv-test-{uuid.uuid4().hex[:12]}"
        client = boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=KEY_ID,
                              aws_secret_access_key=SECRET, region_name=REGION)
        client.create_bucket(Bucket=name)
        return name


def start_moto() -> tuple[Any, str]:
    """moto's S3 app in a thread, counting requests and body bytes (the benchmarks' server)."""
    server = CountingMotoServer().start()
    return server, server.endpoint


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    pytest.importorskip("moto.server")
    pytest.importorskip("s3fs")
    server, endpoint = start_moto()
    try:
        yield S3Server(endpoint, server)
    finally:
        server.stop()


class TcpGate:
    """A loopback TCP proxy in front of a server. ``cut()`` refuses new connections and resets
    open ones, as a server that went away does; ``restore()`` listens on the same port again."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self._listener: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.port = 0
        self._listen()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _listen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(64)
        self.port = sock.getsockname()[1]
        self._listener = sock
        threading.Thread(target=self._accept, args=(sock,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._conns.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    s.close()

    def cut(self) -> None:
        with self._lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            conns, self._conns = self._conns, set()
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                s.close()

    def restore(self) -> None:
        if self._listener is None:
            self._listen()


@dataclass
class RemoteCase:
    """One remote under test: its URL, the options to set with ``--local``, and raw access to
    what is stored (through fsspec, beside pipever)."""

    kind: str
    url: str
    root: str
    fs: Any
    local_options: dict[str, str] = field(default_factory=dict)
    layout: str = "packed"  # how pv writes to it (SPEC §4.1); "loose" is set in the committed config

    def configure(self, pv: Any, name: str = "storage", *, default: bool = True, cwd: Path | None = None) -> None:
        args = ["remote", "add", *(["-d"] if default else []), name, self.url]
        pv.ok(*args, cwd=cwd)
        if self.layout != "packed":
            pv.ok("remote", "modify", name, "layout", self.layout, cwd=cwd)
        for k, v in self.local_options.items():
            pv.ok("remote", "modify", "--local", name, k, v, cwd=cwd)

    # -- objects, in either layout -------------------------------------------------------------
    def _indexes(self) -> dict[str, list[Any]]:
        from pipever.remote import packfmt

        out = {}
        for rel in sorted(self.objects()):
            if rel.startswith("packs/") and rel.endswith(".idx"):
                out[rel[len("packs/"):-len(".idx")]] = packfmt.decode_index(self.read(rel))
        return out

    def stored(self) -> set[str]:
        """Objects the remote holds, as ``blake3/xx/…[.dir]`` names: loose files and the
        entries of pack indexes."""
        from pipever.remote import packfmt

        found = {r for r in self.objects() if r.startswith("blake3/") and not r.endswith(".pvtmp")}
        for entries in self._indexes().values():  # chunk lists stand for their files; chunks are parts
            found.update(e.ref.relpath for e in entries if e.kind != packfmt.CHUNK)
        return found

    def unsound(self) -> list[str]:
        """What is wrong on the remote: a loose object or a packed one that does not hash to its
        name, an index that does not hash to its name or names a missing pack, a stray name."""
        from pipever.objects.hashing import hash_bytes
        from pipever.objects.oid import oid_from_relpath
        from pipever.remote import packfmt

        bad = []
        names = self.objects()
        for rel in sorted(names):
            tail = rel.rsplit("/", 1)[-1]
            if tail.endswith(".pvtmp") or rel in (packfmt.FORMAT_FILE, packfmt.INDEX_LIST):
                continue
            if rel.startswith("packs/"):
                pid, _, ext = tail.partition(".")
                if ext == "idx":
                    data = self.read(rel)
                    if packfmt.index_id(data) != pid:
                        bad.append(f"index {rel} does not hash to its name")
                    elif f"packs/{pid}.pack" not in names:
                        bad.append(f"index {rel} names a missing pack")
                    else:
                        pack = self.read(f"packs/{pid}.pack")
                        for e in packfmt.decode_index(data):
                            if e.kind == packfmt.CHUNK_LIST:  # checked by rebuilding its file
                                continue
                            if hash_bytes(pack[e.offset:e.offset + e.length]) != e.ref.oid:
                                bad.append(f"{e.ref.relpath} in {rel}")
                elif ext not in ("pack", "drop"):
                    bad.append(f"stray {rel}")
                continue
            parsed = oid_from_relpath(rel)
            if parsed is None:
                bad.append(f"stray {rel}")
            elif hash_bytes(self.read(rel)) != parsed[0]:
                bad.append(rel)
        return bad

    def corrupt(self, rel: str) -> None:
        """Damage an object's bytes where they are stored (loose file, or inside its pack)."""
        if rel in self.objects():
            self.write(rel, b"tampered bytes")
            return
        for pid, entries in self._indexes().items():
            for e in entries:
                if e.ref.relpath == rel:
                    data = bytearray(self.read(f"packs/{pid}.pack"))
                    for i in range(e.offset, e.offset + max(1, e.length)):
                        data[i] ^= 0xFF
                    self.write(f"packs/{pid}.pack", bytes(data))
                    return
        raise AssertionError(f"{rel} is not on the remote")

    def remove(self, rel: str) -> None:
        """Lose one object, as a damaged remote would: the loose file, or its index entry (the
        pack and index are rewritten under the new index's id)."""
        if rel in self.objects():
            self.delete(rel)
            return
        from pipever.remote import packfmt

        for pid, entries in self._indexes().items():
            if any(e.ref.relpath == rel for e in entries):
                pack = self.read(f"packs/{pid}.pack")
                index = packfmt.encode_index([e for e in entries if e.ref.relpath != rel])
                new = packfmt.index_id(index)
                self.write(f"packs/{new}.pack", pack)
                self.write(f"packs/{new}.idx", index)
                self.delete(f"packs/{pid}.idx")
                self.delete(f"packs/{pid}.pack")
                return
        raise AssertionError(f"{rel} is not on the remote")

    def objects(self) -> set[str]:
        """Relative paths (``blake3/xx/…``) of everything under the root."""
        try:
            found = self.fs.find(self.root)
        except FileNotFoundError:
            return set()
        return {str(p)[len(self.root) + 1:] for p in found}

    def read(self, rel: str) -> bytes:
        return bytes(self.fs.cat_file(f"{self.root}/{rel}"))

    def write(self, rel: str, data: bytes) -> None:
        path = f"{self.root}/{rel}"
        if self.kind == "local":
            p = Path(path)
            p.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                p.chmod(0o644)
            p.write_bytes(data)
        else:
            self.fs.pipe_file(path, data)

    def delete(self, rel: str) -> None:
        self.fs.rm_file(f"{self.root}/{rel}")


_counter = itertools.count()


def local_case(tmp_path: Path, layout: str = "packed") -> RemoteCase:
    from fsspec.implementations.local import LocalFileSystem

    root = tmp_path / f"storage{next(_counter)}"
    return RemoteCase("local", str(root), str(root), LocalFileSystem(), layout=layout)


def s3_case(server: S3Server, endpoint: str | None = None, layout: str = "packed") -> RemoteCase:
    bucket = server.new_bucket()
    ep = endpoint or server.endpoint
    opts = {"endpoint_url": ep, "access_key_id": KEY_ID, "secret_access_key": SECRET, "region": REGION}
    # raw access goes straight to the server, so it works while a gate in front is cut
    return RemoteCase("s3", f"s3://{bucket}/store", f"{bucket}/store", server.fs(), opts, layout=layout)


def _case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
          monkeypatch: pytest.MonkeyPatch) -> RemoteCase:
    kind, _, layout = str(request.param).partition("-")
    tmp = tmp_path_factory.mktemp("remote")
    if kind == "local":
        return local_case(tmp, layout or "packed")
    _aws_env(monkeypatch, tmp)
    server: S3Server = request.getfixturevalue("s3_server")
    return s3_case(server, layout=layout or "packed")


@pytest.fixture(params=["local", "local-loose", pytest.param("s3", marks=pytest.mark.s3),
                        pytest.param("s3-loose", marks=pytest.mark.s3)])
def remote(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           monkeypatch: pytest.MonkeyPatch) -> RemoteCase:
    """A fresh, empty remote: a local folder, or a new bucket on the moto S3 server; written in
    the packed layout (the default) or with ``layout: loose``."""
    return _case(request, tmp_path_factory, monkeypatch)


@pytest.fixture(params=["local-loose", pytest.param("s3-loose", marks=pytest.mark.s3)])
def loose_remote(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                 monkeypatch: pytest.MonkeyPatch) -> RemoteCase:
    """A remote in the loose layout only, for tests of that layout's files."""
    return _case(request, tmp_path_factory, monkeypatch)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def packed_remote(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                  monkeypatch: pytest.MonkeyPatch) -> RemoteCase:
    """A remote in the packed layout only."""
    return _case(request, tmp_path_factory, monkeypatch)


@pytest.fixture
def aws_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    _aws_env(monkeypatch, tmp_path_factory.mktemp("aws"))


class RequestLog:
    """Counts the HTTP requests the in-process moto server answers (from werkzeug's request log)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()

    def add(self, line: str) -> None:
        with self._lock:
            self.lines.append(line)

    def clear(self) -> None:
        with self._lock:
            self.lines.clear()

    @property
    def count(self) -> int:
        return len(self.lines)


@pytest.fixture
def s3_requests(s3_server: S3Server) -> Iterator[RequestLog]:
    import logging

    log = RequestLog()

    class Counter(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            msg = record.getMessage()
            if '"' in msg:  # '127.0.0.1 - - [date] "GET /bucket/key HTTP/1.1" 200 -'
                log.add(msg.split('"')[1])

    logger = logging.getLogger("werkzeug")
    handler = Counter()
    old_level, old_propagate, old_handlers = logger.level, logger.propagate, list(logger.handlers)
    for h in old_handlers:  # no line per request on stderr
        logger.removeHandler(h)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield log
    finally:
        logger.removeHandler(handler)
        for h in old_handlers:
            logger.addHandler(h)
        logger.setLevel(old_level)
        logger.propagate = old_propagate
