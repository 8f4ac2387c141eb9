"""Who may talk to ``pv ui`` (SPEC §14): pure checks on a request's headers, no I/O.

* **Host allow-list** against DNS rebinding: a page of a foreign site whose name is made to
  resolve to 127.0.0.1 still sends its own name in ``Host``. Accepted: ``127.0.0.1:PORT``,
  ``localhost:PORT``, ``[::1]:PORT``, and with ``--host H`` also ``H:PORT`` and each
  ``--allow-host`` name (with or without ``:PORT``).
* **Access token** when serving on a non-loopback address: every request carries the token
  printed at start (``?token=`` once, then a cookie the server sets, or the ``X-PV-Token`` header).
* **Actions** (``--allow-actions`` only): a POST with the per-session action token in the
  ``X-PV-Action-Token`` header, JSON content, and an ``Origin`` naming this server.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Iterable
from typing import Protocol
from dataclasses import dataclass, field

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
TOKEN_COOKIE = "pv_ui_token"
TOKEN_HEADER = "X-PV-Token"
ACTION_HEADER = "X-PV-Action-Token"


class Headers(Protocol):
    def get(self, name: str, default: None = None) -> str | None: ...


def new_token() -> str:
    return secrets.token_urlsafe(24)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(host: str) -> str:
    """``host`` as it appears in a Host header (IPv6 literals in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def with_port(name: str, port: int) -> str:
    """An ``--allow-host`` name as a Host header: ``name:PORT`` unless it names its port."""
    if name.startswith("["):
        return name if "]:" in name else f"{name}:{port}"
    if name.count(":") > 1:  # a bare IPv6 address
        return f"[{name}]:{port}"
    return name if ":" in name else f"{name}:{port}"


class Refused(Exception):
    """A request that must not be served: the HTTP status and a one-line reason."""

    def __init__(self, status: int, reason: str, hint: str | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.hint = hint


@dataclass(frozen=True)
class Policy:
    host: str  # the address served on
    port: int
    allow_hosts: tuple[str, ...] = ()
    access_token: str | None = None  # required when not on loopback
    action_token: str | None = None  # set only with --allow-actions
    hosts: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        names = {*(f"{n}:{self.port}" for n in LOOPBACK_NAMES), f"{host_name(self.host)}:{self.port}"}
        names.update(with_port(extra.strip(), self.port) for extra in self.allow_hosts if extra.strip())
        object.__setattr__(self, "hosts", frozenset(n.lower() for n in names))

    @property
    def actions(self) -> bool:
        return self.action_token is not None

    def origins(self) -> frozenset[str]:
        return frozenset(f"http://{h}" for h in self.hosts)

    def check_host(self, host: str | None) -> None:
        if not host:
            raise Refused(400, "the request has no Host header")
        if host.strip().lower() not in self.hosts:
            raise Refused(403, f"host '{host[:100]}' is not allowed here: open pv ui by the address it printed, "
                               "or start it with --allow-host NAME")

    def check_access(self, headers: Headers, query_token: str | None, cookies: Iterable[tuple[str, str]]) -> bool:
        """Raise Refused unless the request carries the access token (when one is required);
        True when it came as ``?token=`` (the server then sets the cookie)."""
        if self.access_token is None:
            return False
        if query_token is not None and _same(query_token, self.access_token):
            return True
        given = [headers.get(TOKEN_HEADER) or ""] + [v for k, v in cookies if k == TOKEN_COOKIE]
        if any(_same(g, self.access_token) for g in given if g):
            return False
        raise Refused(401, "this pv ui needs its access token: open the URL it printed (with ?token=...)")

    def check_action(self, headers: Headers) -> None:
        if self.action_token is None:
            raise Refused(403, "actions are off: restart with 'pv ui --allow-actions' to change the repository")
        origin = headers.get("Origin")
        if not origin or origin.lower() not in self.origins():
            raise Refused(403, "cross-origin request refused: actions are accepted only from pv ui's own pages")
        if not _same(headers.get(ACTION_HEADER) or "", self.action_token):
            raise Refused(403, "missing or wrong action token: reload the page and try again")
        if (headers.get("Content-Type") or "").split(";")[0].strip().lower() != "application/json":
            raise Refused(415, "actions take a JSON body (Content-Type: application/json)")


def policy_for(host: str, port: int, *, allow_hosts: tuple[str, ...] = (), allow_actions: bool = False) -> Policy:
    """The policy of a new session: an access token off loopback, an action token with actions."""
    return Policy(host=host, port=port, allow_hosts=allow_hosts, access_token=None if is_loopback(host) else new_token(),
                  action_token=new_token() if allow_actions else None)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
