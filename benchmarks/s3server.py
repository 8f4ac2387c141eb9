"""A local S3 endpoint for W7/W8: moto's threaded server on 127.0.0.1 and a free port."""

from __future__ import annotations

import itertools
import logging
from types import TracebackType
from typing import Any

BUCKET = "bench-bucket"


class _RequestCounter(logging.Handler):
    """Counts the requests moto answers, from werkzeug's one log line per request."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if '"' in record.getMessage():
            self.count += 1


class MotoS3:
    """Context manager; ``url()`` hands out a fresh ``s3://bench-bucket/xN`` prefix each call;
    ``requests()`` is the number of HTTP requests the server has answered so far."""

    def __init__(self) -> None:
        self._server: Any = None
        self._client: Any = None
        self._counter = itertools.count(1)
        self._requests = _RequestCounter()
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
        from moto.server import ThreadedMotoServer

        log = logging.getLogger("werkzeug")  # one log line per request: counted, not printed
        for handler in list(log.handlers):
            log.removeHandler(handler)
        log.addHandler(self._requests)
        log.setLevel(logging.INFO)
        log.propagate = False

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
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
        if self._server is not None:
            self._server.stop()
        logging.getLogger("werkzeug").removeHandler(self._requests)

    def requests(self) -> int:
        return self._requests.count

    def url(self) -> str:
        """A prefix no earlier run has written to."""
        return f"s3://{BUCKET}/x{next(self._counter)}"
