"""An http(s) remote (read-only) on a real server on 127.0.0.1, with Basic auth from the
``user``/``password`` options (issue 16, case 14)."""

from __future__ import annotations

import base64
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import PvRunner, gen


class AuthServer:
    """Serves ``root`` over HTTP, only to requests with Basic auth ``user:password``."""

    def __init__(self, root: Path, user: str, password: str) -> None:
        import http.server

        expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.seen: list[str | None] = []
        seen = self.seen

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args: object, **kw: object) -> None:
                super().__init__(*args, directory=str(root), **kw)  # type: ignore[arg-type]

            def _allowed(self) -> bool:
                got = self.headers.get("Authorization")
                seen.append(got)
                if got == expected:
                    return True
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="pv"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return False

            def do_GET(self) -> None:
                if self._allowed():
                    super().do_GET()

            def do_HEAD(self) -> None:
                if self._allowed():
                    super().do_HEAD()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def served(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> Iterator[AuthServer]:
    """Data pushed to a folder that an authenticating HTTP server serves; the cache emptied."""
    gen({"data": {"a.csv": "a\n", "b.csv": "b\n"}, "f.txt": "f\n"})
    pv.ok("add", "data", "f.txt")
    pv.ok("remote", "add", "store", str(tmp_path / "store"))
    pv.ok("push", "-r", "store")
    shutil.rmtree(pv_repo / ".pv" / "cache")
    shutil.rmtree(pv_repo / "data")
    (pv_repo / "f.txt").unlink()
    server = AuthServer(tmp_path / "store", "reader", "s3cret-pass")
    yield server
    server.close()


def test_user_and_password_of_an_http_remote_are_sent_as_basic_auth(pv_repo: Path, pv: PvRunner, served: AuthServer) -> None:
    pv.ok("remote", "add", "web", served.url)
    pv.ok("remote", "modify", "--local", "web", "user", "reader")
    pv.ok("remote", "modify", "--local", "web", "password", "s3cret-pass")
    res = pv("pull", "-r", "web")
    assert res.exit_code == 0, res
    assert (pv_repo / "data" / "a.csv").read_text() == "a\n" and (pv_repo / "f.txt").read_text() == "f\n"
    assert served.seen and all(s is not None and s.startswith("Basic ") for s in served.seen)
    assert "s3cret-pass" not in res.stdout + res.stderr


def test_a_wrong_password_is_a_clean_error(pv_repo: Path, pv: PvRunner, served: AuthServer) -> None:
    pv.ok("remote", "add", "web", served.url)
    pv.ok("remote", "modify", "--local", "web", "user", "reader")
    pv.ok("remote", "modify", "--local", "web", "password", "wrong-pass")
    res = pv("pull", "-r", "web")
    assert res.exit_code == 1, res
    assert res.stderr.startswith("ERROR: ") and "Traceback" not in res.stderr and "unexpected" not in res.stderr, res
    assert "wrong-pass" not in res.stdout + res.stderr
