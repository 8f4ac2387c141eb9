"""``cache.shared: group``: a cache a team or an HPC group shares (SPEC §6)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import PvRunner, gen


@pytest.fixture
def strict_umask() -> Iterator[None]:
    old = os.umask(0o077)  # a private default: pv must still make the shared cache usable
    try:
        yield
    finally:
        os.umask(old)


def _tree(root: Path) -> tuple[list[Path], list[Path]]:
    dirs, files = [root], []
    for dirpath, dirnames, filenames in os.walk(root):
        dirs += [Path(dirpath) / d for d in dirnames]
        files += [Path(dirpath) / f for f in filenames]
    return dirs, files


def test_shared_group_cache_is_group_writable_and_objects_group_readable(
    pv_repo: Path, pv: PvRunner, tmp_path_factory: pytest.TempPathFactory, strict_umask: None,
) -> None:
    shared = tmp_path_factory.mktemp("team") / "cache"
    pv.ok("config", "--local", "cache.dir", str(shared))
    pv.ok("config", "cache.shared", "group")
    gen({"data": {f"part{i}.csv": f"{i},{i * i}\n" for i in range(40)}, "model.bin": b"\x00weights" * 100})
    pv.ok("add", "data", "model.bin")
    dirs, files = _tree(shared)
    assert len(files) == 42  # 40 files, the manifest, the model
    for d in dirs:
        mode = os.stat(d).st_mode
        assert mode & stat.S_ISGID, f"{d} lacks setgid: {oct(mode)}"
        assert mode & (stat.S_IRGRP | stat.S_IWGRP | stat.S_IXGRP) == stat.S_IRGRP | stat.S_IWGRP | stat.S_IXGRP, f"{d}: {oct(mode)}"
    for f in files:
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o444, f"{f}: {oct(os.stat(f).st_mode)}"
    # a second clone of the project (another team member) checks out from the same cache
    for p in (pv_repo / "data").iterdir():
        os.chmod(p, 0o644)
        p.unlink()
    res = pv.ok("checkout")
    assert "40 added" in res.stdout
    assert (pv_repo / "data/part7.csv").read_text() == "7,49\n"


def test_private_cache_stays_private_without_shared(pv_repo: Path, pv: PvRunner, strict_umask: None) -> None:
    gen({"data": {"a.csv": "1\n"}})
    pv.ok("add", "data")
    dirs, files = _tree(pv_repo / ".pv/cache/blake3")
    assert all(not os.stat(d).st_mode & (stat.S_ISGID | stat.S_IWGRP) for d in dirs)
    assert all(stat.S_IMODE(os.stat(f).st_mode) == 0o444 for f in files)


def test_cache_shared_accepts_only_group(pv_repo: Path, pv: PvRunner) -> None:
    res = pv("config", "cache.shared", "everyone")
    assert res.exit_code == 1
    assert res.stderr.strip() == (
        "ERROR: 'cache.shared' must be 'group', got 'everyone' — "
        "'pv config cache.shared group', or 'pv config --unset cache.shared'"
    )
