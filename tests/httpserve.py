"""A folder served over HTTP on 127.0.0.1 for tests of URL deps, URL imports and http remotes:
Python's own server, optionally sending an ETag (the md5 of the file, quoted, as many servers do;
without one pv records the content's md5)."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def serve_dir(root: Path, *, etag: bool = False) -> Iterator[str]:
    """Serve ``root`` until the block ends; yields the base URL (``http://127.0.0.1:PORT``)."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return None

        def end_headers(self) -> None:
            path = self.translate_path(self.path)
            if etag and os.path.isfile(path):
                with open(path, "rb") as f:
                    self.send_header("ETag", '"' + hashlib.md5(f.read()).hexdigest() + '"')
            super().end_headers()

    with serve(functools.partial(Handler, directory=str(root))) as url:
        yield url


@contextlib.contextmanager
def serve(handler: Callable[..., http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """Run an HTTP server with ``handler`` on 127.0.0.1 until the block ends; yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
