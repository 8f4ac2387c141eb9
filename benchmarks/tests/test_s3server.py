from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from benchmarks.s3server import PIECE, MotoS3, Traffic, TrafficCounter


class _Closing:
    """A response body with ``close``, as WSGI apps may return."""

    def __init__(self, parts: list[bytes]) -> None:
        self.parts = parts
        self.closed = False

    def __iter__(self) -> Any:
        return iter(self.parts)

    def close(self) -> None:
        self.closed = True


def _echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Reads the body in pieces, answers with it in two parts and writes a header line."""
    stream = environ["wsgi.input"]
    body = stream.readline() + stream.read(3)
    buf = bytearray(100)
    n = stream.readinto(buf)
    body += bytes(buf[:n])
    write = start_response("200 OK", [])
    write(b"hdr:")
    return _Closing([body[:2], body[2:]])


def test_counter_adds_requests_and_body_bytes_each_way() -> None:
    counter = TrafficCounter(_echo)
    statuses: list[str] = []
    sent: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        statuses.append(status)
        return sent.append

    for body in (b"line\nabcdefg", b"xy"):
        result = counter({"wsgi.input": io.BytesIO(body)}, start_response)
        sent.extend(result)
        result.close()  # type: ignore[attr-defined]
    assert statuses == ["200 OK", "200 OK"]
    assert b"".join(sent) == b"hdr:line\nabcdefghdr:xy"
    assert counter.snapshot() == Traffic(requests=2, received=14, served=22)
    assert counter.snapshot() - Traffic(1, 10, 20) == Traffic(1, 4, 2)


def test_counter_closes_the_apps_body() -> None:
    body = _Closing([b"abc"])
    counter = TrafficCounter(lambda environ, start: body)
    result = counter({"wsgi.input": io.BytesIO()}, lambda *a: None)
    assert list(result) == [b"abc"]
    result.close()  # type: ignore[attr-defined]
    assert body.closed and counter.snapshot().served == 3


def test_moto_counts_uploads_ranged_reads_and_stored_bytes() -> None:
    if not MotoS3.available():
        pytest.skip("moto[server] is not installed")
    data = bytes(range(256)) * 4096  # 1 MiB
    with MotoS3() as s3:
        url = s3.url()
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        client = s3._client
        start = s3.traffic()
        client.put_object(Bucket=bucket, Key=f"{prefix}/a", Body=data)
        put = s3.traffic() - start
        assert (put.requests, put.received, put.served) == (1, len(data), 0)
        start = s3.traffic()
        part = client.get_object(Bucket=bucket, Key=f"{prefix}/a", Range="bytes=10-1009")["Body"].read()
        got = s3.traffic() - start
        assert part == data[10:1010] and (got.requests, got.received, got.served) == (1, 0, 1000)
        assert s3.requests() == s3.traffic().requests == 3  # bucket creation, put, get
        assert s3.stored(url) == len(data)
        s3.clear(url)
        assert s3.stored(url) == 0


def test_a_response_dropped_by_the_client_counts_only_what_was_written() -> None:
    big = bytes(3 * PIECE + 5)
    counter = TrafficCounter(lambda environ, start: [big])
    body = iter(counter({"wsgi.input": io.BytesIO()}, lambda *a: None))
    assert len(next(body)) == PIECE and counter.snapshot().served == PIECE  # counted when handed out
    assert len(next(body)) == PIECE and counter.snapshot().served == 2 * PIECE
    body.close()  # type: ignore[attr-defined]  # the server could not write it: the client went away
    assert counter.snapshot().served == PIECE
    whole = counter({"wsgi.input": io.BytesIO()}, lambda *a: None)
    assert b"".join(whole) == big and counter.snapshot().served == PIECE + len(big)
