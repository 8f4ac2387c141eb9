"""A credential set with ``pv remote modify --local`` appears in no tracked file, no output, no
``-v`` traceback and no error message (issue 6, guarantee 7).

The secret is a distinctive string; every command's stdout and stderr is searched for it (and for
its first half, so that a truncated copy is caught too), and at the end so are every file of the
work tree and of ``.pv`` except ``config.local.yaml``, and every object in Git's database.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers import PvRunner, Result, gen, git, git_commit
from tests.s3server import KEY_ID, REGION, S3Server

SECRET = "pvSECRETw9x8y7z6v5u4t3s2r1q0"
PASSWORD = "pvPASSWORDa1b2c3d4e5f6"


class Watch:
    def __init__(self, pv: PvRunner) -> None:
        self.pv = pv
        self.runs = 0
        self.leaks: list[str] = []

    def __call__(self, *args: str) -> Result:
        for verbose in ((), ("-v",)):
            res = self.pv(*verbose, *args)
            self.runs += 1
            for needle in (SECRET, SECRET[: len(SECRET) // 2], PASSWORD):
                if needle in res.stdout or needle in res.stderr:
                    self.leaks.append(f"pv {' '.join((*verbose, *args))} printed {needle!r}: {res}")
        return res


def files_holding(root: Path, needles: tuple[str, ...], *, allowed: tuple[str, ...]) -> list[str]:
    found = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if rel in allowed or not p.is_file() or p.is_symlink() or rel.startswith(".git/"):
            continue
        data = p.read_bytes()
        found += [f"{rel} holds {n!r}" for n in needles if n.encode() in data]
    objects = subprocess.run(["git", "cat-file", "--batch-all-objects", "--batch"], cwd=root, capture_output=True).stdout
    found += [f"a Git object holds {n!r}" for n in needles if n.encode() in objects]
    return found


@pytest.mark.s3
def test_remote_credentials_never_leave_the_local_config(
    pv_repo: Path, pv: PvRunner, s3_server: S3Server, aws_env: None, tmp_path: Path,
) -> None:
    bucket = s3_server.new_bucket()
    watch = Watch(pv)
    gen({"data": {"a": "a\n", "b": "b\n"}})
    pv.ok("add", "data")
    pv.ok("remote", "add", "-d", "s3", f"s3://{bucket}/store")
    for opt, value in (("endpoint_url", s3_server.endpoint), ("access_key_id", KEY_ID), ("secret_access_key", SECRET),
                       ("region", REGION), ("session_token", SECRET + "tok")):
        pv.ok("remote", "modify", "--local", "s3", opt, value)
    res = pv("remote", "modify", "s3", "secret_access_key", SECRET)  # into the committed file: refused
    assert res.exit_code == 1 and SECRET not in res.stderr
    # a password in a URL, and an SSH password, on remotes that cannot be reached
    pv.ok("remote", "add", "--local", "web", f"https://user:{PASSWORD}@127.0.0.1:1/store")
    pv.ok("remote", "add", "ssh", "ssh://me@127.0.0.1:1/store")
    pv.ok("remote", "modify", "--local", "ssh", "password", PASSWORD)
    pv.ok("remote", "modify", "ssh", "connect_timeout", "1")
    git_commit("remotes")

    for args in [("remote", "list"), ("remote", "list", "--json"), ("config", "--list"),
                 ("config", "--list", "--show-origin"), ("config", "--local", "--list"),
                 ("config", "remote.s3.secret_access_key"), ("config", "--local", "remote.web.url"),
                 ("remote", "default")]:
        watch(*args)
    for args in [("push",), ("status", "-c"), ("fetch",), ("pull",), ("fsck", "-r", "s3"),
                 ("gc", "-w", "--cloud", "-f")]:
        watch(*args)
    for args in [("push", "-r", "web"), ("status", "-c", "-r", "web"), ("push", "-r", "ssh"),
                 ("status", "-c", "-r", "ssh")]:
        assert watch(*args).exit_code == 1, args
    # an endpoint nobody answers on, then an option the backend rejects (a TypeError inside s3fs)
    pv.ok("remote", "modify", "--local", "s3", "endpoint_url", f"http://{KEY_ID}:{SECRET}@127.0.0.1:1")
    pv.ok("remote", "modify", "--local", "s3", "connect_timeout", "1")
    pv.ok("remote", "modify", "--local", "s3", "retries", "1")
    gen({"more": "m\n"})
    pv.ok("add", "more")
    for args in [("push",), ("status", "-c"), ("fsck", "-r", "s3")]:
        assert watch(*args).exit_code == 1, args
    pv.ok("remote", "modify", "--local", "s3", "endpoint_url", s3_server.endpoint)
    pv.ok("remote", "modify", "--local", "s3", "no_such_option", "1")
    assert watch("push").exit_code == 1

    assert not watch.leaks, "\n".join(watch.leaks)
    assert watch.runs >= 40
    assert ".pv/config.local.yaml" not in git("ls-files")
    assert files_holding(pv_repo, (SECRET, PASSWORD), allowed=(".pv/config.local.yaml",)) == []
    assert SECRET in (pv_repo / ".pv/config.local.yaml").read_text()  # the control: it is there
