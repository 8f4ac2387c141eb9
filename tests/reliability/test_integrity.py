"""Corruption is detected wherever it is injected, and never spreads (issue 6, guarantee 2).

Every kind of damage (a flipped byte -- with the modification time put back, as bit rot leaves
it --, truncation, extension, another object's content) is injected into a file object, a large
file object and a directory manifest, in the cache and on the remote:

- ``pv fsck`` reports every corrupt cache object, moves it to ``.pv/tmp/bad/``, and
  ``--repair -r`` brings back a good copy; ``pv fsck -r`` finds every corrupt remote object and
  ``--repair`` re-uploads the good local one;
- ``pv checkout`` never links a corrupt object into the workspace;
- ``pv fetch``/``pull`` never let a corrupt download into the cache;
- ``pv push`` never uploads a corrupt object.
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from pipever.objects.hashing import hash_bytes, hash_file
from pipever.objects.oid import oid_from_relpath
from tests.helpers import PvRunner, gen, git_commit
from tests.reliability import harness as h

Damage = Callable[[Path, bytes], None]


def _write(path: Path, data: bytes, *, keep_mtime: bool = False) -> None:
    st = os.stat(path)
    os.chmod(path, 0o644)
    path.write_bytes(data)
    os.chmod(path, st.st_mode & 0o777)
    if keep_mtime:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def flip(path: Path, other: bytes) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    _write(path, bytes(data))


def bitrot(path: Path, other: bytes) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x80
    _write(path, bytes(data), keep_mtime=True)


def empty(path: Path, other: bytes) -> None:
    _write(path, b"")


def half(path: Path, other: bytes) -> None:
    _write(path, path.read_bytes()[: path.stat().st_size // 2])


def extend(path: Path, other: bytes) -> None:
    _write(path, path.read_bytes() + b"\n")


def swap(path: Path, other: bytes) -> None:
    _write(path, other)


DAMAGES: dict[str, Damage] = {"flip": flip, "bitrot": bitrot, "empty": empty, "half": half, "extend": extend, "swap": swap}


@pytest.fixture
def setup(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> tuple[Path, Path, dict[str, Path]]:
    """A pushed repo; returns (repo, remote, target kind -> relpath of its object)."""
    rng = random.Random(5)
    gen({"small.csv": rng.randbytes(3000), "big.bin": rng.randbytes(3 << 20),
         "d": {"a": rng.randbytes(100), "b": "b\n"}})
    pv.ok("add", "small.csv", "big.bin", "d")
    remote = tmp_path / "remote"
    pv.ok("remote", "add", "-d", "storage", str(remote))
    pv.ok("remote", "modify", "storage", "layout", "loose")  # damages hit one file per object (packs: test_packs.py)
    pv.ok("push")
    git_commit("data")
    cache = pv_repo / ".pv/cache"
    targets = {}
    for name in ("small.csv", "big.bin"):
        oid = hash_file(pv_repo / name)
        targets[name] = Path(oid.relpath())
    targets["d/ (manifest)"] = next(p.relative_to(cache) for p in cache.rglob("*.dir"))
    return pv_repo, remote, targets


def oid_of(rel: Path) -> str:
    parsed = oid_from_relpath(rel.as_posix())
    assert parsed is not None
    return str(parsed[0])


def test_every_corrupt_cache_object_is_found_quarantined_and_repaired(setup: tuple[Path, Path, dict[str, Path]], pv: PvRunner) -> None:
    repo, _remote, targets = setup
    cache = repo / ".pv/cache"
    injected = detected = 0
    for dname, damage in DAMAGES.items():
        for tname, rel in targets.items():
            other = (cache / targets["small.csv" if tname != "small.csv" else "big.bin"]).read_bytes()
            damage(cache / rel, other)
            injected += 1
            res = pv("fsck")
            if res.exit_code == 1 and f"corrupt in cache: {oid_of(rel)}" in res.stdout:
                detected += 1
            assert not (cache / rel).exists(), (dname, tname)
            assert (repo / ".pv/tmp/bad" / (rel.name[:0] + oid_of(rel)[7:] + (".dir" if rel.suffix == ".dir" else ""))).exists()
            pv.ok("fsck", "--repair", "-r", "storage")
            assert h.bad_objects(cache) == [] and (cache / rel).exists()
            shutil.rmtree(repo / ".pv/tmp/bad")
    h.stat("corruptions (cache, fsck)", injected, injected - detected)
    assert (injected, detected) == (len(DAMAGES) * len(targets), injected)


def test_checkout_never_links_a_corrupt_object(setup: tuple[Path, Path, dict[str, Path]], pv: PvRunner) -> None:
    repo, _remote, targets = setup
    cache = repo / ".pv/cache"
    good = {p: (repo / p).read_bytes() for p in ("small.csv", "big.bin", "d/a")}
    for dname, damage in DAMAGES.items():
        if dname == "bitrot":
            continue  # checkout trusts the stat of an object it verified before: bit rot is fsck's job
        for tname in ("small.csv", "big.bin"):
            (repo / tname).unlink()
            damage(cache / targets[tname], b"other content")
            res = pv("checkout")
            assert res.exit_code == 1 and "corrupt" in res.stderr and tname in res.stderr, (dname, res)
            assert not (repo / tname).exists(), (dname, tname)  # nothing linked
            pv.ok("fsck", "--repair", "-r", "storage")
            pv.ok("checkout")
            assert (repo / tname).read_bytes() == good[tname]
    h.stat("corruptions (checkout)", (len(DAMAGES) - 1) * 2)


def test_corrupt_remote_objects_never_enter_the_cache_and_are_repaired(setup: tuple[Path, Path, dict[str, Path]], pv: PvRunner) -> None:
    repo, remote, targets = setup
    cache = repo / ".pv/cache"
    saved = repo.parent / "good-cache"
    shutil.copytree(cache, saved)
    injected = detected = 0
    for dname, damage in DAMAGES.items():
        for tname, rel in targets.items():
            other = (saved / targets["small.csv" if tname != "small.csv" else "big.bin"]).read_bytes()
            damage(remote / rel, other)
            injected += 1
            shutil.rmtree(cache)
            for args in (("fetch",), ("pull", "--force")):
                res = pv(*args)
                named = oid_of(rel) in res.stderr or tname.split(" ")[0] in res.stderr
                assert res.exit_code == 1 and res.stderr.startswith("ERROR: ") and named, (dname, tname, args, res)
                assert h.bad_objects(cache) == [] and not (cache / rel).exists(), (dname, tname)
                assert h.tmp_leftovers(cache, include_pv=True) == []
            shutil.rmtree(cache)
            shutil.copytree(saved, cache)
            res = pv("fsck", "-r", "storage")
            if res.exit_code == 1 and f"corrupt on remote: {oid_of(rel)}" in res.stdout:
                detected += 1
            pv.ok("fsck", "-r", "storage", "--repair")
            assert h.bad_objects(remote) == []
    h.stat("corruptions (remote: fetch, pull, fsck -r)", injected, injected - detected)
    assert (injected, detected) == (len(DAMAGES) * len(targets), injected)


def test_push_never_uploads_a_corrupt_object(setup: tuple[Path, Path, dict[str, Path]], pv: PvRunner) -> None:
    repo, remote, targets = setup
    cache = repo / ".pv/cache"
    pristine = repo.parent / "pristine"
    shutil.copytree(cache, pristine)
    injected = refused = 0
    for dname, damage in DAMAGES.items():
        if dname == "bitrot":
            continue  # push trusts the stat of an object verified before, as checkout does
        for tname, rel in targets.items():
            (remote / rel).chmod(0o644)
            (remote / rel).unlink()  # the remote lacks it: push would send it
            damage(cache / rel, b"other content")
            injected += 1
            res = pv("push")
            if res.exit_code == 1 and "corrupt" in res.stderr and not (remote / rel).exists():
                refused += 1
            assert h.bad_objects(remote) == [], (dname, tname)
            (cache / rel).chmod(0o644)
            shutil.copyfile(pristine / rel, cache / rel)
            pv.ok("push")
    h.stat("corruptions (push)", injected, injected - refused)
    assert refused == injected == (len(DAMAGES) - 1) * len(targets)


def test_hash_of_what_is_stored_is_what_the_name_says(setup: tuple[Path, Path, dict[str, Path]]) -> None:
    """The control for the checks above: untouched stores verify."""
    repo, remote, _targets = setup
    assert h.bad_objects(repo / ".pv/cache") == [] and h.bad_objects(remote) == []
    assert hash_bytes(b"") != hash_bytes(b"\n")
