"""push and pull through a real sshd on a loopback port (pipever[ssh], i.e. sshfs/asyncssh), with a
throwaway host key and user key; host keys are checked."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import gen, git, git_commit

pytestmark = pytest.mark.ssh

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


@dataclass
class Sshd:
    port: int
    user: str
    key: Path
    known_hosts: Path
    storage: Path

    @property
    def url(self) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}{self.storage}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    if not os.path.exists(SSHD) or shutil.which("ssh-keygen") is None:
        pytest.skip("sshd is not installed (Debian: apt-get install openssh-server)")
    pytest.importorskip("sshfs")
    if os.geteuid() == 0 and not os.path.isdir("/run/sshd"):
        try:
            os.makedirs("/run/sshd", mode=0o755)  # sshd's privilege-separation directory
        except OSError:
            pytest.skip("sshd cannot run here: /run/sshd is missing and cannot be created")
    d = tmp_path_factory.mktemp("sshd")
    host_key, user_key = d / "host_key", d / "user_key"
    _keygen(host_key)
    _keygen(user_key)
    (d / "authorized_keys").write_text((d / "user_key.pub").read_text())
    port = _free_port()
    config = d / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nAuthorizedKeysFile {d / 'authorized_keys'}\n"
        "PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        f"UsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\nPidFile {d / 'sshd.pid'}\n"
        "Subsystem sftp internal-sftp\nLogLevel ERROR\n"
    )
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while True:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
            pytest.skip(f"sshd cannot run here: {err[:200]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                pytest.skip("sshd did not start listening within 10 s")
            time.sleep(0.05)
    known = d / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} " + " ".join((d / "host_key.pub").read_text().split()[:2]) + "\n")
    storage = d / "storage"
    try:
        yield Sshd(port, getpass.getuser(), user_key, known, storage)
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


def _configure(pv, s: Sshd, cwd: Path | None = None, *, add: bool = True) -> None:  # type: ignore[no-untyped-def]
    if add:
        pv.ok("remote", "add", "-d", "box", s.url, cwd=cwd)
    pv.ok("remote", "modify", "--local", "box", "keyfile", str(s.key), cwd=cwd)
    pv.ok("remote", "modify", "--local", "box", "known_hosts", str(s.known_hosts), cwd=cwd)


def test_ssh_push_then_pull_in_a_clone(pv_repo: Path, pv, sshd: Sshd) -> None:
    gen({"data": {"a.txt": "a", "b": {"c.bin": os.urandom(300_000)}}, "m.bin": b"m" * 1000})
    pv.ok("add", "data", "m.bin")
    _configure(pv, sshd)
    git("add", ".pv/config.yaml")
    git_commit("data")
    assert pv.ok("push").stdout == "4 files pushed\n"
    assert pv.ok("push").stdout == "Everything is up to date.\n"
    assert not [p for p in sshd.storage.rglob("*") if p.name.endswith(".pvtmp")]
    clone = pv_repo.parent / "clone"
    git("clone", "-q", str(pv_repo), str(clone))
    _configure(pv, sshd, cwd=clone, add=False)
    assert pv.ok("status", "-c", "--json", cwd=clone).stdout.count("deleted") == 3
    pv.ok("pull", cwd=clone)
    for rel in ("data/a.txt", "data/b/c.bin", "m.bin"):
        assert (clone / rel).read_bytes() == (pv_repo / rel).read_bytes()


def test_ssh_unknown_host_key_is_refused(pv_repo: Path, pv, sshd: Sshd, tmp_path: Path) -> None:
    gen({"f.txt": "x"})
    pv.ok("add", "f.txt")
    _configure(pv, sshd)
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    pv.ok("remote", "modify", "--local", "box", "known_hosts", str(empty))
    res = pv("push")
    assert res.exit_code == 1
    assert res.stderr.startswith(f"ERROR: the host key of remote 'box' ({sshd.url}) is not trusted")
