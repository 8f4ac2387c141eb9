"""The request checks of ``pv ui`` (SPEC §14): Host allow-list, access token, actions."""

from __future__ import annotations

import pytest

from pipever.ui.security import Policy, Refused, policy_for, with_port


def refused(fn: object, *args: object) -> Refused:
    with pytest.raises(Refused) as info:
        fn(*args)  # type: ignore[operator]
    return info.value


def test_loopback_names_with_the_port_are_the_only_hosts_by_default() -> None:
    p = Policy("127.0.0.1", 8123)
    assert p.hosts == {"127.0.0.1:8123", "localhost:8123", "[::1]:8123"}
    for host in ("127.0.0.1:8123", "LocalHost:8123", "[::1]:8123"):
        p.check_host(host)
    for host in ("localhost", "localhost:80", "evil.example:8123", "127.0.0.1:8123.evil", "attacker.127.0.0.1.nip.io:8123"):
        err = refused(p.check_host, host)
        assert err.status == 403 and err.reason.startswith(f"host '{host}' is not allowed here")
    assert refused(p.check_host, None).status == 400


def test_host_and_allow_host_names() -> None:
    p = Policy("0.0.0.0", 80, allow_hosts=("box.lan", "proxy:8443", "[fe80::1]", "fe80::2"))
    assert {"0.0.0.0:80", "box.lan:80", "proxy:8443", "[fe80::1]:80", "[fe80::2]:80"} <= p.hosts
    assert with_port("[::1]:9", 1) == "[::1]:9" and with_port("h", 5) == "h:5"
    assert Policy("::1", 7).hosts >= {"[::1]:7"}


def test_policy_for_gives_tokens_off_loopback_and_with_actions() -> None:
    assert policy_for("127.0.0.1", 1).access_token is None and policy_for("localhost", 1).access_token is None
    assert policy_for("::1", 1).access_token is None
    remote = policy_for("0.0.0.0", 1)
    assert remote.access_token and len(remote.access_token) >= 30 and remote.action_token is None
    a, b = policy_for("127.0.0.1", 1, allow_actions=True), policy_for("127.0.0.1", 1, allow_actions=True)
    assert a.action_token and b.action_token and a.action_token != b.action_token  # one per session


def test_access_token_by_query_cookie_or_header() -> None:
    p = Policy("0.0.0.0", 80, access_token="tok")
    assert p.check_access({}, "tok", []) is True  # the server sets the cookie then
    assert p.check_access({}, None, [("pv_ui_token", "tok")]) is False
    assert p.check_access({"X-PV-Token": "tok"}, None, []) is False
    for query, cookies in (("nope", []), (None, [("pv_ui_token", "nope")]), (None, [("other", "tok")]), (None, [])):
        assert refused(p.check_access, {}, query, cookies).status == 401
    assert Policy("127.0.0.1", 80).check_access({}, None, []) is False  # loopback: no token


def test_actions_need_allow_actions_token_origin_and_json() -> None:
    good = {"Origin": "http://127.0.0.1:80", "X-PV-Action-Token": "act", "Content-Type": "application/json"}
    assert refused(Policy("127.0.0.1", 80).check_action, good).reason.startswith("actions are off")
    p = Policy("127.0.0.1", 80, action_token="act")
    p.check_action(good)
    p.check_action({**good, "Origin": "http://localhost:80", "Content-Type": "application/json; charset=utf-8"})
    for change in ({"Origin": "http://evil.example"}, {"Origin": "null"}, {"Origin": ""}, {"X-PV-Action-Token": "x"},
                   {"X-PV-Action-Token": ""}, {"Content-Type": "text/plain"}, {"Origin": "https://127.0.0.1:80"}):
        assert 400 <= refused(p.check_action, {**good, **change}).status < 500, change
