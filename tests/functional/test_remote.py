"""pv remote add|modify|remove|list|default, and what the committed config may and may not set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.helpers import gen, git

SECRET = "s3cr3t-VALUE-never-shown"


def _cfg(repo: Path, local: bool = False) -> dict:  # type: ignore[type-arg]
    path = repo / ".pv" / ("config.local.yaml" if local else "config.yaml")
    return yaml.safe_load(path.read_text()) or {} if path.exists() else {}


def test_add_list_default_remove(pv_repo: Path, pv) -> None:
    res = pv.ok("remote", "add", "-d", "store", "s3://bucket/path")
    assert res.stdout == "Remote 'store' added and set as the default.\n"
    pv.ok("remote", "add", "backup", "/mnt/backup")
    assert _cfg(pv_repo) == {
        "remote": {"store": {"url": "s3://bucket/path"}, "backup": {"url": "/mnt/backup"}},
        "core": {"remote": "store"},
    }
    assert pv.ok("remote", "list").stdout == "backup\t/mnt/backup\nstore\ts3://bucket/path\t(default)\n"
    assert pv.ok("remote", "default").stdout == "store\n"
    pv.ok("remote", "default", "backup")
    assert pv.ok("remote", "default").stdout == "backup\n"
    res = pv.ok("remote", "remove", "backup")
    assert res.stdout == "Remote 'backup' removed from the repo config.\n"
    assert _cfg(pv_repo) == {"remote": {"store": {"url": "s3://bucket/path"}}}
    res = pv("remote", "default")
    assert res.exit_code == 1 and "No default remote is set." in res.stderr


def test_remove_clears_the_default_that_names_it_in_any_config(pv_repo: Path, pv) -> None:
    """A default set with --local survived removing the remote from the committed config, so
    every push then failed with "remote 'r' does not exist" (dvc clears it at every level)."""
    pv.ok("remote", "add", "keep", "/mnt/keep")
    pv.ok("remote", "add", "r", "/mnt/r")
    pv.ok("remote", "default", "--local", "r")
    assert pv.ok("remote", "remove", "r").stdout == "Remote 'r' removed from the repo config.\n"
    assert _cfg(pv_repo, local=True) == {}
    res = pv("remote", "default")
    assert res.exit_code == 1 and "No default remote is set." in res.stderr
    pv.ok("remote", "add", "--local", "r", "/mnt/mine")
    pv.ok("remote", "add", "r2", "/mnt/r2")
    pv.ok("remote", "default", "r2")
    pv.ok("remote", "remove", "--local", "r")
    assert pv.ok("remote", "default").stdout == "r2\n"  # a default naming another remote stays


def test_a_default_the_local_config_overrides_is_not_claimed(pv_repo: Path, pv) -> None:
    """With a --local default, 'pv remote default r2' and 'pv remote add -d r3 URL' wrote the
    committed default, said nothing (or 'set as the default'), and the default stayed the local one."""
    pv.ok("remote", "add", "--local", "-d", "mine", "/mnt/mine")
    pv.ok("remote", "add", "r2", "/mnt/r2")
    hint = "run 'pv remote default --local {0}', or clear it with 'pv remote default --local --unset'"
    res = pv("remote", "default", "r2")
    assert res.exit_code == 1
    assert res.stderr == ("ERROR: the local config sets the default remote to 'mine', which takes precedence — "
                          + hint.format("r2") + "\n")
    res = pv("remote", "add", "-d", "r3", "/mnt/r3")
    assert res.exit_code == 1 and res.stderr.endswith(hint.format("r3") + "\n")
    assert "r3" not in (pv_repo / ".pv" / "config.yaml").read_text()  # nothing half-written
    assert pv.ok("remote", "default").stdout == "mine\n"
    pv.ok("remote", "default", "--local", "r2")
    assert pv.ok("remote", "default").stdout == "r2\n"
    pv.ok("remote", "default", "--local", "--unset")
    pv.ok("remote", "add", "-d", "r3", "/mnt/r3")
    assert pv.ok("remote", "default").stdout == "r3\n"


def test_add_refuses_a_duplicate_unless_forced(pv_repo: Path, pv) -> None:
    pv.ok("remote", "add", "store", "/a")
    pv.ok("remote", "modify", "store", "jobs", "4")
    res = pv("remote", "add", "store", "/b")
    assert res.exit_code == 1
    assert res.stderr == (
        "ERROR: remote 'store' already exists — use --force to overwrite it, or 'pv remote modify store url URL'\n"
    )
    pv.ok("remote", "add", "--force", "store", "/b")
    assert _cfg(pv_repo)["remote"] == {"store": {"url": "/b"}}


def test_local_remote_goes_to_the_git_ignored_file(pv_repo: Path, pv) -> None:
    pv.ok("remote", "add", "--local", "-d", "mine", "/srv/data")
    assert _cfg(pv_repo, local=True) == {"remote": {"mine": {"url": "/srv/data"}}, "core": {"remote": "mine"}}
    assert "mine" not in (pv_repo / ".pv" / "config.yaml").read_text()
    pv.ok("remote", "remove", "mine")
    assert _cfg(pv_repo, local=True) == {}


def test_modify_sets_and_unsets_options(pv_repo: Path, pv) -> None:
    pv.ok("remote", "add", "s", "s3://b/p")
    pv.ok("remote", "modify", "s", "endpoint_url", "http://minio:9000")
    pv.ok("remote", "modify", "s", "jobs", "8")
    assert _cfg(pv_repo)["remote"]["s"] == {"url": "s3://b/p", "endpoint_url": "http://minio:9000", "jobs": 8}
    pv.ok("remote", "modify", "s", "--unset", "jobs")
    assert "jobs" not in _cfg(pv_repo)["remote"]["s"]
    for option, bad in (("jobs", "abc"), ("jobs", "0"), ("retries", "many"), ("read_timeout", "0")):
        res = pv("remote", "modify", "s", option, bad)  # else silently replaced by the default
        assert res.exit_code == 1 and res.stderr.startswith(f"ERROR: '{option}' must be "), res
    pv.ok("remote", "modify", "s", "read_timeout", "2.5")
    assert _cfg(pv_repo)["remote"]["s"]["read_timeout"] == "2.5"
    res = pv("remote", "modify", "nope", "jobs", "1")
    assert res.exit_code == 1 and res.stderr == "ERROR: remote 'nope' does not exist — see 'pv remote list'\n"


def test_secrets_are_refused_in_the_committed_config_and_masked_everywhere(pv_repo: Path, pv) -> None:
    pv.ok("remote", "add", "-d", "s", "s3://b/p")
    res = pv("remote", "modify", "s", "secret_access_key", SECRET)
    assert res.exit_code == 1
    assert res.stderr == (
        "ERROR: 'secret_access_key' is a secret and .pv/config.yaml is committed — store it in the git-ignored "
        "local config: 'pv remote modify --local s secret_access_key VALUE'\n"
    )
    assert SECRET not in res.stderr
    pv.ok("remote", "modify", "--local", "s", "secret_access_key", SECRET)
    pv.ok("remote", "modify", "--local", "s", "access_key_id", "AKIAEXAMPLE")
    assert SECRET not in (pv_repo / ".pv" / "config.yaml").read_text()
    assert ".pv/config.local.yaml" in _git_ignored(pv_repo)
    out = pv.ok("remote", "list")
    assert SECRET not in out.stdout + out.stderr
    assert "secret_access_key: ******" in out.stdout
    js = json.loads(pv.ok("remote", "list", "--json").stdout)
    assert js == [{"name": "s", "url": "s3://b/p", "default": True, "levels": ["repo", "local"],
                   "options": {"access_key_id": "AKIAEXAMPLE", "secret_access_key": "******"}}]
    assert SECRET not in pv.ok("config", "--list").stdout


def _git_ignored(repo: Path) -> str:
    from tests.helpers import git

    return git("check-ignore", ".pv/config.local.yaml", cwd=repo, check=False)


def test_url_passwords_are_masked_and_not_committed(pv_repo: Path, pv) -> None:
    res = pv("remote", "add", "w", "webdavs://user:hunter22@dav.example/pv")
    assert res.exit_code == 1 and "hunter22" not in res.stderr
    pv.ok("remote", "add", "--local", "w", "webdavs://user:hunter22@dav.example/pv")
    out = pv.ok("remote", "list").stdout
    assert out == "w\twebdavs://user:******@dav.example/pv\n"


@pytest.mark.parametrize("option", ["proxy_command", "known_hosts", "keyfile", "client_kwargs", "ssl_verify"])
def test_options_that_could_run_programs_are_local_only(pv_repo: Path, pv, option: str) -> None:
    pv.ok("remote", "add", "r", "ssh://user@host/srv/pv")
    res = pv("remote", "modify", "r", option, "x")
    assert res.exit_code == 1
    assert f"'{option}' is honoured only from the local or global config" in res.stderr
    assert f"pv remote modify --local r {option} VALUE" in res.stderr
    pv.ok("remote", "modify", "--local", "r", option, "x")


def test_a_committed_unsafe_option_is_ignored_with_a_warning(pv_repo: Path, pv, tmp_path: Path) -> None:
    """A config.yaml edited by hand (or arriving in someone's commit) cannot smuggle options in."""
    marker = tmp_path / "pwned"
    store = tmp_path / "store"
    (pv_repo / ".pv" / "config.yaml").write_text(yaml.safe_dump({
        "core": {"remote": "r"},
        "remote": {"r": {"url": str(store), "proxy_command": f"touch {marker}", "auto_mkdir": True}},
    }))
    from pipever.services import cloud
    from pipever.repo import Repo

    rem = cloud.open_remote(Repo(pv_repo), None)
    assert "proxy_command" not in rem.options and "auto_mkdir" not in rem.options
    assert rem.ignored_options == ["auto_mkdir", "proxy_command"]
    gen({"f.txt": "x"})
    pv.ok("add", "f.txt")
    res = pv.ok("push")
    assert "WARNING: remote 'r': option(s) auto_mkdir, proxy_command in the committed .pv/config.yaml are ignored" in res.stderr
    assert res.stdout == "1 file pushed\n"
    assert not marker.exists()


def test_an_unsupported_scheme_is_refused(pv_repo: Path, pv) -> None:
    res = pv("remote", "add", "x", "ftp://host/path")
    assert res.exit_code == 1
    assert res.stderr.startswith("ERROR: unsupported remote URL scheme 'ftp' in 'ftp://host/path' — use a local path or one of ")


@pytest.mark.parametrize(("url", "why"), [
    ("http://[::1/store", "Invalid IPv6 URL"),
    ("ssh://u:hunter22@host:abc/p", "Port could not be cast to integer value as 'abc'"),
    ("hdfs://namenode:99999/x", "Port out of range 0-65535"),
])
def test_a_malformed_url_is_a_clear_error(pv_repo: Path, pv, url: str, why: str) -> None:
    """urllib's ValueError escaped as 'unexpected ValueError … report it' (also from a hand-edited config)."""
    masked = url.replace("hunter22", "******")
    res = pv("remote", "add", "--local", "x", url)
    assert res.exit_code == 1
    assert res.stderr == f"ERROR: invalid remote URL '{masked}': {why} — check the URL, e.g. 's3://bucket/path' or '/mnt/storage'\n"
    (pv_repo / ".pv" / "config.local.yaml").write_text(yaml.safe_dump({"remote": {"x": {"url": url}}, "core": {"remote": "x"}}))
    gen({"f.txt": "x"})
    pv.ok("add", "f.txt")
    res = pv("push")
    assert res.exit_code == 1
    assert res.stderr.startswith(f"ERROR: invalid remote URL '{masked}': {why}")
    assert "hunter22" not in res.stderr


def test_missing_extra_names_the_pip_command(pv_repo: Path, pv, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipever.remote import url

    real = url._installed
    monkeypatch.setattr(url, "_installed", lambda m: False if m == "s3fs" else real(m))
    gen({"f.txt": "x"})
    pv.ok("add", "f.txt")
    pv.ok("remote", "add", "-d", "s", "s3://bucket/p")
    res = pv("push")
    assert res.exit_code == 1
    assert res.stderr == "ERROR: the 's3' remote support is not installed — run pip install 'pipever[s3]'\n"


def test_missing_extra_for_a_backend_that_is_really_absent(pv_repo: Path, pv) -> None:
    from pipever.remote import url

    if url._installed("gcsfs"):
        pytest.skip("gcsfs is installed here")
    gen({"f.txt": "x"})
    pv.ok("add", "f.txt")
    pv.ok("remote", "add", "-d", "g", "gs://bucket/p")
    res = pv("status", "-c")
    assert res.exit_code == 1
    assert res.stderr == "ERROR: the 'gs' remote support is not installed — run pip install 'pipever[gcs]'\n"


def test_rename_moves_options_and_the_default_in_every_config(pv_repo: Path, pv) -> None:
    pv.ok("remote", "add", "-d", "store", "s3://bucket/path")
    pv.ok("remote", "modify", "store", "region", "eu-west-1")
    pv.ok("remote", "modify", "--local", "store", "profile", "me")
    pv.ok("remote", "default", "--local", "store")
    res = pv.ok("remote", "rename", "store", "main-store")
    assert res.stdout == "Remote 'store' renamed to 'main-store' in the repo and local config.\n"
    assert _cfg(pv_repo) == {"remote": {"main-store": {"url": "s3://bucket/path", "region": "eu-west-1"}},
                             "core": {"remote": "main-store"}}
    assert _cfg(pv_repo, local=True) == {"remote": {"main-store": {"profile": "me"}}, "core": {"remote": "main-store"}}
    assert pv.ok("remote", "default").stdout == "main-store\n"
    assert git("diff", "--cached", "--name-only").split() == [".pv/config.yaml"]  # staged, as 'pv add' stages


def test_rename_refuses_unknown_or_taken_names(pv_repo: Path, pv) -> None:
    pv.ok("remote", "add", "a", "/tmp/a")
    pv.ok("remote", "add", "b", "/tmp/b")
    res = pv("remote", "rename", "nope", "c")
    assert res.exit_code == 1 and res.stderr.startswith("ERROR: remote 'nope'")
    res = pv("remote", "rename", "a", "b")
    assert res.stderr == "ERROR: remote 'b' already exists — remove it first with 'pv remote remove b', or pick another name\n"
    res = pv("remote", "rename", "a", "bad/name")
    assert res.exit_code == 1 and "invalid remote name 'bad/name'" in res.stderr
    assert _cfg(pv_repo)["remote"] == {"a": {"url": "/tmp/a"}, "b": {"url": "/tmp/b"}}


def test_remote_changes_to_the_committed_config_are_staged(pv_repo: Path, pv) -> None:
    pv.ok("remote", "add", "--local", "mine", "/tmp/mine")
    assert git("diff", "--cached", "--name-only").split() == []  # the local file is git-ignored
    pv.ok("remote", "add", "-d", "store", "/tmp/store")
    assert git("diff", "--cached", "--name-only").split() == [".pv/config.yaml"]
    git("commit", "-qm", "remote")
    pv.ok("remote", "modify", "store", "jobs", "4")
    assert git("diff", "--cached", "--name-only").split() == [".pv/config.yaml"]
    git("commit", "-qm", "jobs")
    pv.ok("config", "core.autostage", "false")
    git("commit", "-qam", "no autostage")
    pv.ok("remote", "remove", "store")
    assert git("diff", "--cached", "--name-only").split() == []
