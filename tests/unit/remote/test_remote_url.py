"""Remote URL parsing: scheme -> fsspec protocol and extra; masking; backend checks."""

from __future__ import annotations

import pytest

from pipever.errors import MissingExtraError, RemoteError
from pipever.remote import url


@pytest.mark.parametrize(
    ("text", "protocol", "extra", "root"),
    [
        ("s3://bucket/some/prefix/", "s3", "s3", "bucket/some/prefix"),
        ("s3://bucket", "s3", "s3", "bucket"),
        ("gs://b/p", "gcs", "gcs", "b/p"),
        ("gcs://b/p", "gcs", "gcs", "b/p"),
        ("azure://container/p", "az", "azure", "container/p"),
        ("az://container", "az", "azure", "container"),
        ("ssh://me@host:2222/srv/pv", "ssh", "ssh", "/srv/pv"),
        ("sftp://host/srv/pv", "ssh", "ssh", "/srv/pv"),
        ("file:///mnt/store/", "file", None, "/mnt/store"),
        ("/mnt/store", "file", None, "/mnt/store"),
    ],
)
def test_parse_maps_scheme_to_protocol_and_extra(text: str, protocol: str, extra: str | None, root: str) -> None:
    spec = url.parse(text)
    assert (spec.backend.protocol, spec.backend.extra, spec.root) == (protocol, extra, root)


def test_ssh_url_options_come_from_the_url() -> None:
    spec = url.parse("ssh://me@host.example:2222/srv/pv")
    assert spec.url_options == {"host": "host.example", "username": "me", "port": 2222}


def test_relative_local_path_is_taken_relative_to_the_base(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert url.parse("../store", base_dir=str(tmp_path / "repo")).root == str(tmp_path / "store")


def test_http_is_read_only_and_webdav_keeps_its_base_url() -> None:
    assert not url.parse("https://example.org/pv").backend.writable
    assert url.parse("webdavs://dav.example/a/b").url_options == {"base_url": "https://dav.example/a/b"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ftp://h/p", "unsupported remote URL scheme 'ftp' in 'ftp://h/p'"),
        ("s3://", "'s3://' has no bucket"),
        ("ssh:///path", "'ssh:///path' has no host"),
        ("file://otherhost/p", "'file://otherhost/p' names a host; file:// URLs are local paths"),
        ("", "a remote needs a URL"),
    ],
)
def test_bad_urls_are_refused(text: str, message: str) -> None:
    with pytest.raises(RemoteError) as exc:
        url.parse(text)
    assert exc.value.message == message


def test_mask_url_hides_passwords_only() -> None:
    assert url.mask_url("https://user:pw@host/p") == "https://user:******@host/p"
    assert url.mask_url("ssh://user@host/p") == "ssh://user@host/p"
    assert url.mask_url("s3://bucket/p") == "s3://bucket/p"


def test_require_backend_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(url, "_installed", lambda module: False)
    with pytest.raises(MissingExtraError) as exc:
        url.require_backend(url.parse("azure://c/p"))
    assert exc.value.render() == "the 'azure' remote support is not installed — run pip install 'pipever[azure]'"
    with pytest.raises(RemoteError) as exc2:
        url.require_backend(url.parse("webdav://h/p"))
    assert exc2.value.render() == "the 'webdav' remote support is not installed — run pip install webdav4"
    url.require_backend(url.parse("/local/path"))  # built into fsspec: always there
