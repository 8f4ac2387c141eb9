from __future__ import annotations

import json
import os
from pathlib import Path

from pipever.objects.hashing import hash_bytes
from tests.helpers import PvRunner, gen


def _corrupt(path: Path, data: bytes = b"evil") -> None:
    os.chmod(path, 0o644)
    path.write_bytes(data)


def test_fsck_clean_cache(pv_repo: Path, pv: PvRunner) -> None:
    gen({"d": {"a": "1", "b": "2"}})
    pv.ok("add", "d")
    res = pv.ok("fsck", "--json")
    doc = json.loads(res.stdout)
    assert doc["checked"] == 3 and doc["corrupt"] == [] and doc["ok"] is True


def test_fsck_quarantines_corrupt_objects_and_checkout_refuses_them(pv_repo: Path, pv: PvRunner) -> None:
    gen({"f": "good"})
    pv.ok("add", "f")
    oid = hash_bytes(b"good")
    _corrupt(pv_repo / ".pv/cache" / oid.relpath())
    res = pv("fsck")
    assert res.exit_code == 1
    assert f"corrupt in cache: {oid} (moved to .pv/tmp/bad/)" in res.stdout
    assert res.stderr == "ERROR: 1 corrupt object(s) remain — run 'pv fsck --repair' (with -r REMOTE to fetch good copies)\n"
    assert (pv_repo / ".pv/tmp/bad" / oid.hex).read_bytes() == b"evil"
    assert not (pv_repo / ".pv/cache" / oid.relpath()).exists()
    assert pv.ok("fsck").stdout.startswith("Checked 0 cache object(s)")


def test_fsck_repair_from_remote_and_remote_check(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    pv.ok("remote", "add", "-d", "store", str(remote))
    pv.ok("remote", "modify", "store", "layout", "loose")  # one file per object (packs: test_packs.py)
    gen({"f": "good", "g": "other"})
    pv.ok("add", "f", "g")
    pv.ok("push")
    oid = hash_bytes(b"good")
    _corrupt(pv_repo / ".pv/cache" / oid.relpath())
    res = pv.ok("fsck", "--repair", "-r", "store")
    assert f"corrupt in cache: {oid} (repaired from the remote)" in res.stdout
    assert (pv_repo / ".pv/cache" / oid.relpath()).read_bytes() == b"good"
    # a corrupt remote copy is found and replaced by the good local one
    other = hash_bytes(b"other")
    _corrupt(remote / other.relpath(), b"rotten")
    res = pv("fsck", "-r", "store")
    assert res.exit_code == 1 and f"corrupt on remote: {other}" in res.stdout
    res = pv.ok("fsck", "-r", "store", "--repair")
    assert f"corrupt on remote: {other} (re-uploaded a good copy)" in res.stdout
    assert (remote / other.relpath()).read_bytes() == b"other"
