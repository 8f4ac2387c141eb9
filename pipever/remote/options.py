"""Remote options: from config values to fsspec filesystem arguments, per backend.

The committed ``.pv/config.yaml`` comes from anyone's commit, so only options in ``SAFE`` (plus
the ones every backend shares) are honoured from it; anything else -- an SSH proxy command, a
key file, host-key or TLS settings, or an option pipever does not know -- must come from the
local or global config. Known option names are translated to the backend's own arguments;
unknown ones (from trusted config only) are passed to the filesystem as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipever.remote.url import AZURE, FILE, GCS, HDFS, HTTP, S3, SSH, WEBDAV, Backend, RemoteURL

# options pipever itself reads; never passed to fsspec
# (``layout``, ``pack_threshold``, ``pack_size``: how pv stores objects there, SPEC §4.1)
OWN = {"url", "jobs", "connect_timeout", "read_timeout", "retries", "layout", "pack_threshold", "pack_size"}

SAFE: dict[Backend, set[str]] = {
    FILE: set(),
    S3: {"endpoint_url", "region", "profile", "requester_pays", "acl", "sse", "sse_kms_key_id",
         "listobjects", "version_aware"},
    SSH: {"user", "port", "max_sessions"},
    AZURE: {"account_name"},
    GCS: {"projectname", "project"},
    WEBDAV: {"user"},
    HTTP: set(),
    HDFS: {"user"},
}

CONNECT_TIMEOUT = 10.0  # seconds to open a connection
READ_TIMEOUT = 60.0  # seconds without a byte from an open connection
RETRIES = 3


def split_trusted(
    committed: Mapping[str, Any], trusted_low: Mapping[str, Any], trusted_high: Mapping[str, Any],
    backend: Backend,
) -> tuple[dict[str, Any], list[str]]:
    """Merge the option levels global (``trusted_low``) < repo (``committed``) < local
    (``trusted_high``); returns the options and the committed ones that were ignored."""
    allowed = SAFE.get(backend, set()) | OWN
    out: dict[str, Any] = dict(trusted_low)
    ignored = []
    for k, v in committed.items():
        if str(k).lower() in allowed:
            out[str(k)] = v
        else:
            ignored.append(str(k))
    out.update(trusted_high)
    return out, sorted(ignored)


def number(options: Mapping[str, Any], key: str, default: float) -> float:
    value = options.get(key)
    try:
        return float(value) if value is not None and float(value) > 0 else default
    except (TypeError, ValueError):
        return default


def fs_kwargs(spec: RemoteURL, options: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments for ``fsspec.filesystem(spec.backend.protocol, **kwargs)``."""
    opts = {k: v for k, v in options.items() if k not in OWN}
    connect = number(options, "connect_timeout", CONNECT_TIMEOUT)
    read = number(options, "read_timeout", READ_TIMEOUT)
    b = spec.backend
    # object-store clients are slow to create and safe to share (fsspec caches them by their
    # arguments); an SSH connection is per use, so it is never shared
    kw: dict[str, Any] = {} if b.page_size is not None else {"skip_instance_cache": True}
    if b is FILE:
        return kw
    if b is S3:
        _s3(opts, kw, connect, read, int(number(options, "retries", RETRIES)))
    elif b is SSH:
        _ssh(spec, opts, kw, connect)
    elif b is AZURE:
        for name in ("account_name", "account_key", "sas_token", "connection_string", "tenant_id",
                     "client_id", "client_secret"):
            _move(opts, kw, name, name)
    elif b is GCS:
        _move(opts, kw, "projectname", "project")
        _move(opts, kw, "credentialpath", "token")
    elif b is WEBDAV:
        kw.update(spec.url_options)
        user, password = opts.pop("user", None), opts.pop("password", None)
        if user is not None:
            kw["auth"] = (str(user), str(password or ""))
        _move(opts, kw, "token", "auth")
        kw["timeout"] = read
    elif b is HTTP:
        client: dict[str, Any] = {"timeout": _aiohttp_timeout(connect, read)}
        user, password = opts.pop("user", None), opts.pop("password", None)
        if user is not None or password is not None:  # Basic auth (as DVC's auth: basic); aiohttp
            client["headers"] = {"Authorization": _basic_auth(str(user or ""), str(password or ""))}  # drops it on a redirect elsewhere
        kw["client_kwargs"] = client
    elif b is HDFS:
        kw.update(spec.url_options)
    kw.update(opts)  # unknown options (trusted config only) pass through as they are
    return kw


def _s3(opts: dict[str, Any], kw: dict[str, Any], connect: float, read: float, retries: int) -> None:
    kw["use_listings_cache"] = False
    _move(opts, kw, "endpoint_url", "endpoint_url")
    _move(opts, kw, "profile", "profile")
    _move(opts, kw, "access_key_id", "key")
    _move(opts, kw, "secret_access_key", "secret")
    _move(opts, kw, "session_token", "token")
    _move(opts, kw, "requester_pays", "requester_pays")
    _move(opts, kw, "version_aware", "version_aware")
    _move(opts, kw, "use_ssl", "use_ssl")
    client: dict[str, Any] = {}
    if "region" in opts:
        client["region_name"] = opts.pop("region")
    if "ssl_verify" in opts:
        client["verify"] = opts.pop("ssl_verify")
    if client:
        kw["client_kwargs"] = client
    extra: dict[str, Any] = {}
    for name, arg in (("acl", "ACL"), ("sse", "ServerSideEncryption"), ("sse_kms_key_id", "SSEKMSKeyId")):
        if name in opts:
            extra[arg] = opts.pop(name)
    if extra:
        kw["s3_additional_kwargs"] = extra
    kw["config_kwargs"] = {
        "connect_timeout": connect,
        "read_timeout": read,
        "retries": {"max_attempts": retries, "mode": "standard"},
    }
    opts.pop("listobjects", None)


def _ssh(spec: RemoteURL, opts: dict[str, Any], kw: dict[str, Any], connect: float) -> None:
    kw.update(spec.url_options)
    _move(opts, kw, "user", "username")
    if "port" in opts:
        kw["port"] = int(opts.pop("port"))
    keyfile = opts.pop("keyfile", None)
    if keyfile:
        kw["client_keys"] = [str(keyfile)]
    _move(opts, kw, "password", "password")
    _move(opts, kw, "passphrase", "passphrase")
    # sshfs turns host-key checking off unless told otherwise; () is asyncssh's "use
    # ~/.ssh/known_hosts". Only trusted config can point it elsewhere.
    kw["known_hosts"] = opts.pop("known_hosts", ())
    _move(opts, kw, "proxy_command", "proxy_command")
    if "max_sessions" in opts:
        kw["max_sessions"] = int(opts.pop("max_sessions"))
    kw["connect_timeout"] = connect
    kw["timeout"] = connect * 2


def _aiohttp_timeout(connect: float, read: float) -> Any:
    import aiohttp

    return aiohttp.ClientTimeout(total=None, connect=connect, sock_read=read)


def _basic_auth(user: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _move(src: dict[str, Any], dst: dict[str, Any], name: str, arg: str) -> None:
    if name in src:
        dst[arg] = src.pop(name)


def secret_values(options: Mapping[str, Any]) -> list[str]:
    """Values that must never appear in output (for redacting foreign error messages)."""
    from pipever.config import is_secret

    return [str(v) for k, v in options.items() if is_secret(str(k)) and v not in (None, "") and len(str(v)) >= 4]


def layout(name: str, options: Mapping[str, Any]) -> str:
    """The ``layout`` option: ``packed`` (default) or ``loose``."""
    value = str(options.get("layout") or "packed").strip().lower()
    if value not in ("packed", "loose"):
        from pipever.errors import RemoteError

        raise RemoteError(f"remote '{name}' has an invalid 'layout' {options.get('layout')!r}",
                          hint=f"use 'pv remote modify {name} layout packed' (or 'loose')")
    return value


_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
          "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}


def size(name: str, options: Mapping[str, Any], key: str, default: int) -> int:
    """A size option in bytes (``4194304``, ``4MiB``, ``64M``); RemoteError for another value."""
    raw = options.get(key)
    if raw is None or raw == "":
        return default
    text = str(raw).strip().lower().replace(" ", "")
    digits = text.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = text[len(digits):]
    try:
        value = int(float(digits) * _UNITS[unit])
    except (ValueError, KeyError):
        value = 0
    if value <= 0:
        from pipever.errors import RemoteError

        raise RemoteError(f"remote '{name}' has an invalid '{key}' {raw!r}",
                          hint=f"give a size in bytes or with a unit, e.g. 'pv remote modify {name} {key} 4MiB'")
    return value
