"""Config options -> fsspec arguments, and what the committed config may set."""

from __future__ import annotations

from pipever.remote import options as opt, url


def test_committed_config_cannot_set_unsafe_or_unknown_options() -> None:
    committed = {"url": "ssh://h/p", "user": "bob", "proxy_command": "nc evil 22", "known_hosts": None,
                 "keyfile": "/etc/shadow", "jobs": 4, "mystery": 1}
    merged, ignored = opt.split_trusted(committed, {"port": 22}, {"keyfile": "/home/me/.ssh/id"}, url.SSH)
    assert merged == {"port": 22, "url": "ssh://h/p", "user": "bob", "jobs": 4, "keyfile": "/home/me/.ssh/id"}
    assert ignored == ["keyfile", "known_hosts", "mystery", "proxy_command"]


def test_local_config_overrides_committed_which_overrides_global() -> None:
    merged, _ = opt.split_trusted({"region": "repo"}, {"region": "global"}, {}, url.S3)
    assert merged["region"] == "repo"
    merged, _ = opt.split_trusted({"region": "repo"}, {}, {"region": "local"}, url.S3)
    assert merged["region"] == "local"


def test_s3_options_are_translated_with_bounded_timeouts() -> None:
    spec = url.parse("s3://b/p")
    kw = opt.fs_kwargs(spec, {"endpoint_url": "http://127.0.0.1:9000", "access_key_id": "AK", "secret_access_key": "SK",
                              "region": "eu-west-1", "sse": "AES256", "jobs": 8, "connect_timeout": 3})
    assert kw["endpoint_url"] == "http://127.0.0.1:9000"
    assert (kw["key"], kw["secret"]) == ("AK", "SK")
    assert kw["client_kwargs"] == {"region_name": "eu-west-1"}
    assert kw["s3_additional_kwargs"] == {"ServerSideEncryption": "AES256"}
    assert kw["config_kwargs"]["connect_timeout"] == 3.0
    assert kw["config_kwargs"]["read_timeout"] == opt.READ_TIMEOUT
    assert kw["config_kwargs"]["retries"] == {"max_attempts": opt.RETRIES, "mode": "standard"}
    assert "jobs" not in kw and kw["use_listings_cache"] is False


def test_ssh_checks_host_keys_unless_told_otherwise() -> None:
    spec = url.parse("ssh://me@host:2200/srv")
    kw = opt.fs_kwargs(spec, {"keyfile": "/k"})
    assert kw["known_hosts"] == ()  # asyncssh: ~/.ssh/known_hosts (sshfs alone would pass None: no check)
    assert kw["client_keys"] == ["/k"]
    assert (kw["host"], kw["username"], kw["port"]) == ("host", "me", 2200)
    assert kw["skip_instance_cache"] is True
    assert opt.fs_kwargs(spec, {"known_hosts": "/my/known"})["known_hosts"] == "/my/known"


def test_unknown_trusted_options_pass_through() -> None:
    kw = opt.fs_kwargs(url.parse("s3://b"), {"anon": True})
    assert kw["anon"] is True


def test_secret_values_are_collected_for_redaction() -> None:
    assert opt.secret_values({"secret_access_key": "abcdef", "password": "pw", "region": "x"}) == ["abcdef"]
