"""The HTTP server of ``pv ui``: the standard library's ``ThreadingHTTPServer``, one fresh ``Repo``
per request (so every answer reflects the repository now, and threads share no handles).

Every request first passes ``security.Policy`` (Host allow-list, access token off loopback); POSTs
go only to ``/api/actions/<name>`` and need the action token and a same-origin ``Origin``. A bad
request gets a 4xx with a one-line JSON reason; an unexpected failure a 500 saying so, never a
traceback.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from http import cookies
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pipever.errors import GitError, PvError, RepoLockedError
from pipever.repo import Repo
from pipever.ui import pages
from pipever.ui.security import TOKEN_COOKIE, Policy, Refused, host_name, policy_for

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
VENDOR = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")
MAX_BODY = 64 * 1024
MAX_URL = 4096
CSP = ("default-src 'none'; script-src 'self'{eval}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")

Api = Callable[[Repo, dict[str, list[str]]], Any]
Memo = dict[str, Any]


def _one(query: dict[str, list[str]], key: str) -> str | None:
    values = query.get(key)
    return values[-1] if values else None


def _apis(memo: Memo) -> dict[str, Api]:
    from pipever.ui import data, experiments, overview, pipeline, plots, registry

    return {
        "/api/overview": lambda repo, q: overview.overview(repo),
        "/api/experiments": lambda repo, q: experiments.experiments(repo, memo),
        "/api/plots": lambda repo, q: plots.plots(repo, q.get("rev", [])),
        "/api/pipeline": lambda repo, q: pipeline.pipeline(repo),
        "/api/live": lambda repo, q: pipeline.live(repo),
        "/api/data": lambda repo, q: data.data(repo),
        "/api/data/remote": lambda repo, q: data.remote(repo),
        "/api/data/diff": lambda repo, q: data.diff(repo, _one(q, "a"), _one(q, "b")),
        "/api/revisions": lambda repo, q: data.revisions(repo),
        "/api/registry": lambda repo, q: registry.registry(repo),
    }


@dataclass
class Stats:
    """Server time spent per API path (for the benchmark and ``-v``)."""

    seconds: dict[str, list[float]]
    lock: threading.Lock

    def add(self, path: str, seconds: float) -> None:
        with self.lock:
            self.seconds.setdefault(path, []).append(seconds)


class UiServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, root: Path, policy: Policy, *, verbose: bool = False) -> None:
        self.root = root
        self.verbose = verbose
        self.memo: Memo = {}  # values read at each experiment's commit (immutable)
        self.apis = _apis(self.memo)
        self.stats = Stats({}, threading.Lock())
        self.address_family = socket.AF_INET6 if ":" in policy.host else socket.AF_INET
        super().__init__((policy.host.strip("[]"), policy.port), Handler)
        self.policy = replace(policy, port=self.server_address[1])  # port 0: the one the system chose

    def warm_up(self) -> threading.Thread:
        """Read every experiment's values in the background, so the first page is quick."""
        def work() -> None:
            try:
                with Repo(self.root) as repo:
                    self.apis["/api/experiments"](repo, {})
            except Exception:  # noqa: BLE001 - the page reports errors when it asks
                pass

        thread = threading.Thread(target=work, name="pv-ui-warm-up", daemon=True)
        thread.start()
        return thread

    @property
    def url(self) -> str:
        """Where to open the dashboard (with the access token when one is needed)."""
        token = f"?token={self.policy.access_token}" if self.policy.access_token else ""
        return f"http://{host_name(self.policy.host)}:{self.policy.port}/{token}"


class Handler(BaseHTTPRequestHandler):
    server: UiServer
    protocol_version = "HTTP/1.1"
    server_version = "pv-ui"
    timeout = 60

    def version_string(self) -> str:
        return self.server_version

    # -- plumbing --------------------------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        if self.server.verbose:
            sys.stderr.write(f"pv ui: {self.address_string()} {format % args}\n")

    def _send(self, status: int, body: bytes, content_type: str, *, headers: dict[str, str] | None = None,
              cache: str = "no-store") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(data, separators=(",", ":"), default=str, allow_nan=False).encode()
        self._send(status, body, "application/json; charset=utf-8", headers=headers)

    def _error(self, status: int, message: str, hint: str | None = None) -> None:
        self.close_connection = status >= 500 or self.close_connection
        self._json(status, {"error": message, "hint": hint})

    # -- entry points ----------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        self._handle()

    def do_HEAD(self) -> None:  # noqa: N802
        self._handle()

    def do_POST(self) -> None:  # noqa: N802
        self._handle()

    def _unsupported(self) -> None:
        self._error(405, f"method {self.command} is not allowed")

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _unsupported  # noqa: N815

    def _handle(self) -> None:
        try:
            self._route()
        except Refused as exc:
            self._error(exc.status, exc.reason, exc.hint)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # noqa: BLE001 - the server's boundary: never a traceback to the client
            if self.server.verbose:
                import traceback

                traceback.print_exc()
            sys.stderr.write(f"pv ui: unexpected {type(exc).__name__} on {self.command} {self.path[:200]}: {exc}\n")
            self._error(500, f"unexpected {type(exc).__name__}: {exc}", "see pv ui's output; rerun it with -v")

    def _route(self) -> None:
        policy = self.server.policy
        policy.check_host(self.headers.get("Host"))
        if len(self.path) > MAX_URL:
            raise Refused(414, "the URL is too long")
        url = urlsplit(self.path)
        try:
            query = parse_qs(url.query, keep_blank_values=True, max_num_fields=64, strict_parsing=False)
        except ValueError as exc:
            raise Refused(400, f"bad query string: {exc}") from None
        jar = cookies.SimpleCookie()
        try:
            jar.load(self.headers.get("Cookie") or "")
        except cookies.CookieError:
            jar = cookies.SimpleCookie()
        by_query = policy.check_access(self.headers, _one(query, "token"), [(k, m.value) for k, m in jar.items()])
        extra = {}
        if by_query:  # first visit with ?token=: keep it in a cookie for the page's own requests
            extra["Set-Cookie"] = f"{TOKEN_COOKIE}={policy.access_token}; Path=/; HttpOnly; SameSite=Strict"
        path = url.path
        if self.command == "POST":
            if not path.startswith("/api/actions/"):
                raise Refused(405, f"POST is not allowed on '{path[:100]}'")
            return self._action(path[len("/api/actions/"):])
        if path in pages.VIEWS:
            html = pages.page(path, repo_name=self.server.root.name, action_token=policy.action_token)
            csp = CSP.format(eval=" 'unsafe-eval'" if path == "/plots" else "")  # vega compiles expressions
            extra["Content-Security-Policy"] = csp
            return self._send(200, html.encode(), "text/html; charset=utf-8", headers=extra)
        if path.startswith("/static/"):
            return self._static(path[len("/static/"):])
        if path == "/api/plots/image":
            return self._image(query)
        api = self.server.apis.get(path)
        if api is None:
            raise Refused(404, f"nothing at '{path[:100]}'")
        self._json(200, self._call(path, lambda repo: api(repo, query)), headers=extra)

    def _call(self, path: str, fn: Callable[[Repo], Any]) -> Any:
        start = time.perf_counter()
        try:
            with Repo(self.server.root) as repo:
                repo.command = "pv ui"
                return fn(repo)
        except RepoLockedError as exc:
            raise Refused(409, exc.message, exc.hint) from None
        except GitError as exc:
            raise Refused(400, exc.message, exc.hint) from None
        except PvError as exc:
            raise Refused(422, exc.message, exc.hint) from None
        finally:
            self.server.stats.add(path, time.perf_counter() - start)

    def _image(self, query: dict[str, list[str]]) -> None:
        from pipever.ui.plots import image

        rev, path = _one(query, "rev"), _one(query, "path")
        if not rev or not path:
            raise Refused(400, "give the image's rev and path")
        found = self._call("/api/plots/image", lambda repo: image(repo, rev, path))
        if found is None:
            raise Refused(404, f"no image plot '{path[:100]}' at '{rev[:50]}'")
        data, kind = found
        # an SVG from a commit may hold scripts: never run them, even when opened directly
        self._send(200, data, kind, headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox"})

    def _static(self, name: str) -> None:
        if name in STATIC:
            return self._send(200, (STATIC_DIR / name).read_bytes(), STATIC[name], cache="no-cache")
        if name.startswith("vendor/") and name[len("vendor/"):] in VENDOR:
            from pipever.compare.vega import script

            body = script(name[len("vendor/"):]).encode()
            return self._send(200, body, "text/javascript; charset=utf-8", cache="max-age=3600")
        raise Refused(404, f"no static file '{name[:100]}'")

    def _action(self, name: str) -> None:
        from pipever.ui.actions import ACTIONS

        self.server.policy.check_action(self.headers)
        action = ACTIONS.get(name)
        if action is None:
            raise Refused(404, f"no action '{name[:50]}'; actions: " + ", ".join(ACTIONS))
        try:
            length = int(self.headers.get("Content-Length") or "")
        except ValueError:
            raise Refused(411, "a JSON body with Content-Length is required") from None
        if length < 0 or length > MAX_BODY:
            raise Refused(413, "the request body is too large")
        try:
            body = json.loads(self.rfile.read(length) or b"null")
        except (ValueError, UnicodeDecodeError):
            raise Refused(400, "the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise Refused(400, "the body must be a JSON object")
        self._json(200, self._call(f"/api/actions/{name}", lambda repo: action(repo, body)))


def make_server(root: Path, *, host: str = "127.0.0.1", port: int = 0, allow_hosts: tuple[str, ...] = (),
                allow_actions: bool = False, verbose: bool = False) -> UiServer:
    """Bind (port 0: any free port); the caller runs ``serve_forever`` and ``server_close``. A
    non-loopback ``host`` gets an access token; ``allow_actions`` a per-session action token."""
    if not host or not 0 <= port <= 65535:
        raise PvError(f"cannot serve on '{host}:{port}'", hint="give --host an address and --port 0-65535")
    policy = policy_for(host, port, allow_hosts=allow_hosts, allow_actions=allow_actions)
    try:
        return UiServer(root, policy, verbose=verbose)
    except OSError as exc:
        raise PvError(f"cannot listen on {host_name(host)}:{port}: {exc.strerror or exc}",
                      hint="choose another --port (0: any free one) or --host") from None
