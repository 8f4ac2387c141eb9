"""Foreign exceptions (fsspec, botocore, asyncssh, aiohttp, OSError) to pipever errors.

Classification goes by exception class names along the MRO, so no backend is imported to map
its errors. Messages name the remote and never its secrets: configured secret values and URL
passwords are masked in any text taken from a foreign exception.

``RemoteUnavailableError`` (unreachable, access denied, missing bucket, untrusted host key) is
fatal for a whole run: a transfer stops starting new objects once one is seen.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipever.errors import PvError, RemoteError
from pipever.remote.url import mask_url

_CONNECT = {
    "ConnectionError", "ConnectionRefusedError", "ConnectionResetError", "ConnectionAbortedError",
    "BrokenPipeError", "EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError",
    "ProxyConnectionError", "ClientConnectorError", "ClientConnectionError", "ServerDisconnectedError",
    "ClientOSError", "ConnectionLost", "DisconnectError", "gaierror", "HTTPClientError",
}
_TIMEOUT = {"TimeoutError", "FSTimeoutError", "ReadTimeoutError", "ServerTimeoutError", "timeout"}
_AUTH = {"NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError", "PermissionDenied",
         "NoAuthTokenError", "ClientAuthenticationError", "RefreshError", "DefaultCredentialsError",
         "PermissionError", "ProfileNotFound"}
_HOSTKEY = {"HostKeyNotVerifiable"}
_INVALID = {"ParamValidationError", "InvalidBucketName"}  # the client refused the request itself


class RemoteUnavailableError(RemoteError):
    """The remote as a whole cannot be used (network, credentials, bucket, host key)."""


class ObjectMissingError(RemoteError):
    """One object is not on the remote (the remote itself answered)."""


class Redactor:
    def __init__(self, secrets: Sequence[str]) -> None:
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for s in self._secrets:
            text = text.replace(s, "******")
        return _URL_IN_TEXT.sub(lambda m: mask_url(m.group(0)), text)


_URL_IN_TEXT = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"]+")


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen and len(seen) < 8:
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__
    return seen


def reason(exc: BaseException, redact: Redactor) -> str:
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror and not exc.filename:
        text = exc.strerror
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    if text.endswith(":") and len(lines) > 1:  # "Parameter validation failed:" + what failed
        text = f"{text} {lines[1]}"
    return redact(text[:300])


def translate(exc: BaseException, *, remote: str, where: str, redact: Redactor) -> PvError:
    """A pipever error for ``exc`` raised while using remote ``remote`` (``where``: its URL,
    already masked)."""
    if isinstance(exc, PvError):
        return exc
    for link in _chain(exc):
        names = _names(link)
        why = reason(link, redact)
        if names & _HOSTKEY:
            return RemoteUnavailableError(
                f"the host key of remote '{remote}' ({where}) is not trusted: {why}",
                hint="add the host to ~/.ssh/known_hosts (check its fingerprint), or point "
                f"'pv remote modify --local {remote} known_hosts FILE' at a file that lists it",
            )
        if names & _AUTH:
            return RemoteUnavailableError(
                f"access to remote '{remote}' ({where}) was denied: {why}",
                hint=f"check its credentials (e.g. 'pv remote modify --local {remote} OPTION VALUE', "
                "or the environment) and permissions",
            )
        if isinstance(link, FileNotFoundError) and "bucket does not exist" in str(link).lower():
            return RemoteUnavailableError(
                f"the bucket of remote '{remote}' ({where}) does not exist",
                hint=f"create it, or fix the URL with 'pv remote modify {remote} url URL'",
            )
        if names & _INVALID:
            return RemoteUnavailableError(
                f"remote '{remote}' ({where}) cannot be used as configured: {why}",
                hint=f"fix its URL or options ('pv remote list', 'pv remote modify {remote} url URL')",
            )
        if names & _TIMEOUT:
            return RemoteUnavailableError(
                f"remote '{remote}' ({where}) did not answer in time: {why}",
                hint="check the network, or raise 'connect_timeout'/'read_timeout' with 'pv remote modify'",
            )
        if names & _CONNECT:
            return RemoteUnavailableError(
                f"cannot reach remote '{remote}' ({where}): {why}",
                hint="check the network and the remote's URL/endpoint, then rerun the command",
            )
    if isinstance(exc, FileNotFoundError):
        return ObjectMissingError(f"not on remote '{remote}' ({where})", hint="push it from a machine that has it")
    return RemoteError(f"remote '{remote}' ({where}): {reason(exc, redact)}", hint="rerun the command; use -v for details")


def fatal(err: PvError) -> bool:
    return isinstance(err, RemoteUnavailableError)
