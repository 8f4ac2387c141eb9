"""A local S3 endpoint for W7/W8/W13: moto's S3 app on 127.0.0.1 and a free port, behind a WSGI
middleware that counts the requests it answers and the body bytes that go over HTTP each way
(uploads received, downloads served, ranged GETs included). The tests' moto fixture uses the
same server (``tests/s3server.py``)."""

from __future__ import annotations

import io
import itertools
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

BUCKET = "bench-bucket"
PIECE = 256 << 10  # response bodies are written (and counted) in pieces of at most this size


@dataclass(frozen=True)
class Traffic:
    """What the server has answered so far: requests, request body bytes it read (PUT/POST
    uploads) and response body bytes it sent (GETs of objects and ranges, listings, errors)."""

    requests: int = 0
    received: int = 0
    served: int = 0

    def __sub__(self, other: Traffic) -> Traffic:
        return Traffic(
            self.requests - other.requests, self.received - other.received, self.served - other.served
        )


class _CountedInput(io.RawIOBase):
    """``wsgi.input`` that adds every byte the app reads to the counter."""

    def __init__(self, stream: Any, add: Callable[[int, int], None]) -> None:
        super().__init__()
        self._stream = stream
        self._add = add

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        reader = getattr(self._stream, "readinto", None)
        if reader is not None:
            n = reader(buffer) or 0
        else:
            data = self._stream.read(len(buffer))
            n = len(data)
            buffer[:n] = data
        self._add(n, 0)
        return n

    def read(self, size: int | None = -1) -> bytes:
        data = self._stream.read() if size is None or size < 0 else self._stream.read(size)
        self._add(len(data), 0)
        return bytes(data)

    def readline(self, size: int | None = -1) -> bytes:
        data = self._stream.readline() if size is None or size < 0 else self._stream.readline(size)
        self._add(len(data), 0)
        return bytes(data)


class TrafficCounter:
    """WSGI middleware: counts each request, the body bytes the app reads from it and the body
    bytes of its response that the server wrote to the socket."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._requests = 0
        self._received = 0
        self._served = 0

    def _add(self, received: int, served: int) -> None:
        with self._lock:
            self._received += received
            self._served += served

    def snapshot(self) -> Traffic:
        with self._lock:
            return Traffic(self._requests, self._received, self._served)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with self._lock:
            self._requests += 1
        environ["wsgi.input"] = _CountedInput(environ["wsgi.input"], self._add)

        def counted_start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            write = start_response(status, headers, exc_info)

            def counted_write(data: bytes) -> None:
                self._add(0, len(data))
                try:
                    write(data)
                except BaseException:
                    self._add(0, -len(data))
                    raise

            return counted_write

        return self._body(self.app(environ, counted_start))

    def _body(self, result: Iterable[bytes]) -> Iterator[bytes]:
        """The app's body in pieces of at most ``PIECE`` bytes. Each piece is counted as it is
        handed to the server (so the count is complete before the client has the response) and
        taken back if the server could not write it: a client that drops a response after its
        headers (as s3fs does before a ranged download) is charged only for what went out."""
        try:
            for data in result:
                for at in range(0, len(data), PIECE) if len(data) > PIECE else (0,):
                    piece = data[at:at + PIECE] if len(data) > PIECE else data
                    self._add(0, len(piece))
                    try:
                        yield piece
                    except GeneratorExit:  # the write failed, or the server stopped: not sent
                        self._add(0, -len(piece))
                        raise
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()


class CountingMotoServer:
    """moto's S3 server in a thread (as moto's ``ThreadedMotoServer`` runs it), with every request
    passing through a ``TrafficCounter``. werkzeug's one log line per request is silenced."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.counter: TrafficCounter | None = None
        self.endpoint = ""

    def start(self) -> CountingMotoServer:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.counter = TrafficCounter(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self._host, 0, self.counter, threaded=True, request_handler=MotoRequestHandler
        )
        host, port = self._server.server_address[:2]
        self.endpoint = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def traffic(self) -> Traffic:
        return self.counter.snapshot() if self.counter else Traffic()


class MotoS3:
    """Context manager; ``url()`` hands out a fresh ``s3://bench-bucket/xN`` prefix each call;
    ``requests()`` is the number of HTTP requests the server has answered so far, ``traffic()``
    those and the body bytes received and served; ``stored(url)`` the bytes stored under a
    prefix and ``clear(url)`` deletes them."""

    def __init__(self) -> None:
        self._server = CountingMotoServer()
        self._client: Any = None
        self._counter = itertools.count(1)
        self.endpoint = ""

    @staticmethod
    def available() -> bool:
        try:
            import boto3  # noqa: F401
            import moto.server  # noqa: F401
        except ImportError:
            return False
        return True

    def __enter__(self) -> MotoS3:
        import boto3

        self._server.start()
        self.endpoint = self._server.endpoint
        self._client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
            region_name="us-east-1",
        )
        self._client.create_bucket(Bucket=BUCKET)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.stop()

    def requests(self) -> int:
        return self._server.traffic().requests

    def traffic(self) -> Traffic:
        return self._server.traffic()

    def url(self) -> str:
        """A prefix no earlier run has written to."""
        return f"s3://{BUCKET}/x{next(self._counter)}"

    def _keys(self, url: str) -> Iterator[dict[str, Any]]:
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/")
        for page in pages:
            yield from page.get("Contents", ())

    def stored(self, url: str) -> int:
        """Bytes of all objects under ``url`` (the remote's size, as a bucket bill counts it)."""
        return sum(int(item["Size"]) for item in self._keys(url))

    def clear(self, url: str) -> None:
        """Delete everything under ``url`` (moto keeps objects in memory)."""
        bucket = url.removeprefix("s3://").partition("/")[0]
        keys = [{"Key": item["Key"]} for item in self._keys(url)]
        for at in range(0, len(keys), 1000):
            self._client.delete_objects(Bucket=bucket, Delete={"Objects": keys[at:at + 1000]})
