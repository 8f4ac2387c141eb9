"""Foreign exceptions -> pipever errors naming the remote, never its secrets."""

from __future__ import annotations

import pytest

from pipever.errors import PvError, RemoteError
from pipever.remote import failures


def _t(exc: BaseException, secrets: tuple[str, ...] = ()) -> PvError:
    return failures.translate(exc, remote="store", where="s3://b/p", redact=failures.Redactor(secrets))


def test_connection_refused_is_fatal_and_names_the_remote() -> None:
    err = _t(ConnectionRefusedError(111, "Connection refused"))
    assert isinstance(err, failures.RemoteUnavailableError) and failures.fatal(err)
    assert err.render() == (
        "cannot reach remote 'store' (s3://b/p): Connection refused — check the network and the remote's "
        "URL/endpoint, then rerun the command"
    )


def test_classes_are_matched_by_name_without_importing_backends() -> None:
    EndpointConnectionError = type("EndpointConnectionError", (Exception,), {})
    NoCredentialsError = type("NoCredentialsError", (Exception,), {})
    HostKeyNotVerifiable = type("HostKeyNotVerifiable", (Exception,), {})
    assert _t(EndpointConnectionError("x")).message.startswith("cannot reach remote 'store'")
    assert _t(NoCredentialsError("Unable to locate credentials")).message == (
        "access to remote 'store' (s3://b/p) was denied: Unable to locate credentials"
    )
    assert _t(HostKeyNotVerifiable("nope")).message.startswith("the host key of remote 'store'")


def test_missing_bucket_and_timeouts() -> None:
    assert _t(FileNotFoundError("The specified bucket does not exist")).message == (
        "the bucket of remote 'store' (s3://b/p) does not exist"
    )
    assert "did not answer in time" in _t(TimeoutError("timed out")).message


def test_the_cause_chain_is_searched() -> None:
    try:
        try:
            raise ConnectionResetError(104, "reset")
        except ConnectionResetError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as exc:
        assert failures.fatal(_t(exc))


def test_other_errors_are_per_object_and_redacted() -> None:
    err = _t(OSError("bad thing with sekrit123 and https://u:pw@h/x"), ("sekrit123",))
    assert type(err) is RemoteError and not failures.fatal(err)
    assert err.message == "remote 'store' (s3://b/p): bad thing with ****** and https://u:******@h/x"


def test_pv_errors_pass_through() -> None:
    e = PvError("x")
    assert _t(e) is e


@pytest.mark.parametrize("exc", [PermissionError("Access Denied"), ConnectionAbortedError()])
def test_fatal_kinds(exc: BaseException) -> None:
    assert failures.fatal(_t(exc))


def test_a_request_the_client_refuses_names_what_is_wrong_and_the_config_to_fix() -> None:
    ParamValidationError = type("ParamValidationError", (Exception,), {})
    err = _t(ParamValidationError('Parameter validation failed:\nInvalid bucket name "Bad_Bucket!": must match'))
    assert isinstance(err, failures.RemoteUnavailableError) and failures.fatal(err)
    assert err.render() == (
        "remote 'store' (s3://b/p) cannot be used as configured: Parameter validation failed: Invalid bucket name "
        "\"Bad_Bucket!\": must match — fix its URL or options ('pv remote list', 'pv remote modify store url URL')"
    )
