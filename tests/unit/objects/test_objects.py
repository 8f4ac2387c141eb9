"""Golden values and behaviour of the content-addressed core."""

from __future__ import annotations

import os
from collections.abc import Callable
import stat
from pathlib import Path

import pytest

from pipever.errors import CorruptObjectError, ManifestError
from pipever.objects import manifest as mf
from pipever.objects.hashing import hash_bytes, hash_file
from pipever.objects.odb import ChangedWhileReadingError, ObjectDB
from pipever.objects.oid import Oid, oid_from_relpath, parse_oid

EMPTY = "blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"  # BLAKE3 test vector
HELLO = "blake3:8e4c7c1b99dbfd50e7a95185fead5ee1448fa904a2fdd778eaf5f2dbfd629a99"
WORLD = "blake3:26e70f0a438787ee143979a9b519a4a330ea21e0a23d31fcb47051e70b8fe5ad"
MANIFEST_BYTES = (
    b'[{"path":"a.csv","oid":"' + HELLO.encode() + b'","size":6,"isexec":true},'
    b'{"path":"b/c.txt","oid":"' + WORLD.encode() + b'","size":6,"isexec":false}]'
)
MANIFEST_OID = "blake3:9e58804a2753bb9e1a3ca55b8cac166a032b55ce26910b35a0f7affe3d9c3ef2"


def test_oid_of_known_bytes() -> None:
    assert str(hash_bytes(b"")) == EMPTY
    assert str(hash_bytes(b"hello\n")) == HELLO


def test_hash_file_matches_bytes_for_small_and_large_files(tmp_path: Path) -> None:
    small = tmp_path / "s"
    small.write_bytes(b"hello\n")
    assert str(hash_file(small)) == HELLO
    big = tmp_path / "big"
    data = os.urandom(1 << 20) * 70  # 70 MiB: crosses the mmap window size
    big.write_bytes(data)
    assert hash_file(big) == hash_bytes(data)


def test_parse_oid_rejects_malformed() -> None:
    assert str(parse_oid(HELLO)) == HELLO
    for bad in ("md5:abc", "blake3:" + "A" * 64, "blake3:" + "a" * 63, 42, None, HELLO[7:]):
        with pytest.raises(ValueError):
            parse_oid(bad)


def test_object_relpath_layout_round_trips() -> None:
    oid = parse_oid(HELLO)
    assert oid.relpath() == f"blake3/{oid.hex[:2]}/{oid.hex[2:]}"
    assert oid.relpath(is_dir=True).endswith(".dir")
    assert oid_from_relpath(oid.relpath(is_dir=True)) == (oid, True)
    assert oid_from_relpath("blake3/zz/nothex") is None
    assert oid_from_relpath("other/8e/" + oid.hex[2:]) is None


def _manifest() -> mf.Manifest:
    return mf.Manifest.build([
        mf.Entry("b/c.txt", parse_oid(WORLD), 6, False),
        mf.Entry("a.csv", parse_oid(HELLO), 6, True),
    ])


def test_manifest_canonical_bytes_are_pinned() -> None:
    m = _manifest()
    assert mf.to_bytes(m) == MANIFEST_BYTES
    assert str(mf.manifest_oid(m)) == MANIFEST_OID
    assert mf.from_bytes(MANIFEST_BYTES) == m
    assert (m.size, m.nfiles) == (12, 2)


@pytest.mark.parametrize(
    "bad",
    [
        b"not json",
        b'{"path": "a"}',
        b'[{"path":"../x","oid":"' + HELLO.encode() + b'","size":1,"isexec":false}]',
        b'[{"path":"/etc/x","oid":"' + HELLO.encode() + b'","size":1,"isexec":false}]',
        b'[{"path":".git/hooks/x","oid":"' + HELLO.encode() + b'","size":1,"isexec":false}]',
        b'[{"path":"a","oid":"md5:1","size":1,"isexec":false}]',
        b'[{"path":"a","oid":"' + HELLO.encode() + b'","size":-1,"isexec":false}]',
        b'[{"path":"b","oid":"' + HELLO.encode() + b'","size":1,"isexec":false},'
        b'{"path":"a","oid":"' + HELLO.encode() + b'","size":1,"isexec":false}]',
        b'[{"path":"a","oid":"' + HELLO.encode() + b'","size":1,"isexec":false},'
        b'{"path":"a/b","oid":"' + HELLO.encode() + b'","size":1,"isexec":false}]',
    ],
)
def test_manifest_from_bytes_rejects_bad_or_escaping_entries(bad: bytes) -> None:
    with pytest.raises(ManifestError):
        mf.from_bytes(bad, what="x")


def test_odb_insert_is_read_only_and_idempotent(tmp_path: Path) -> None:
    odb = ObjectDB(tmp_path / "cache")
    src = tmp_path / "f"
    src.write_bytes(b"hello\n")
    oid = hash_file(src)
    assert odb.add_file(src, oid, hashed_stat=os.stat(src), display="f") is True
    assert odb.add_file(src, oid, hashed_stat=os.stat(src), display="f") is False
    path = odb.path(oid)
    assert path.read_bytes() == b"hello\n"
    assert not os.stat(path).st_mode & stat.S_IWUSR
    assert odb.verify(oid)
    assert [r.oid for r in odb.iter_objects()] == [oid]


def test_odb_refuses_a_file_that_changed_after_hashing(tmp_path: Path) -> None:
    odb = ObjectDB(tmp_path / "cache")
    src = tmp_path / "f"
    src.write_bytes(b"hello\n")
    st = os.stat(src)
    src.write_bytes(b"changed!\n")
    with pytest.raises(ChangedWhileReadingError):
        odb.add_file(src, hash_bytes(b"hello\n"), hashed_stat=st, display="f")
    assert not odb.exists(hash_bytes(b"hello\n"))
    assert list((tmp_path / "cache").rglob("*.pvtmp")) == []


def test_odb_large_file_is_stored_while_hashing(tmp_path: Path) -> None:
    odb = ObjectDB(tmp_path / "cache")
    src = tmp_path / "big"
    data = os.urandom(1 << 20) * 65
    src.write_bytes(data)
    oid = odb.add_file_hashing(src, hashed_stat=os.stat(src), display="big")
    assert oid == hash_bytes(data)
    assert odb.verify(oid)
    assert list((tmp_path / "cache").rglob("*.pvtmp")) == []


def test_insert_verified_rejects_corrupt_download_and_keeps_nothing(tmp_path: Path) -> None:
    odb = ObjectDB(tmp_path / "cache")
    oid = hash_bytes(b"good")
    tmp = odb.tmp_path_for(oid)
    tmp.write_bytes(b"evil")
    with pytest.raises(CorruptObjectError) as exc:
        odb.insert_verified(tmp, oid)
    assert exc.value.oid == str(oid)
    assert not tmp.exists() and not odb.exists(oid)
    tmp = odb.tmp_path_for(oid)
    tmp.write_bytes(b"good")
    odb.insert_verified(tmp, oid)
    assert odb.path(oid).read_bytes() == b"good"


def test_read_manifest_detects_corruption(tmp_path: Path) -> None:
    odb = ObjectDB(tmp_path / "cache")
    oid = odb.add_manifest(_manifest())
    assert odb.read_manifest(oid) == _manifest()
    p = odb.path(oid, is_dir=True)
    os.chmod(p, 0o644)
    p.write_bytes(MANIFEST_BYTES.replace(b"a.csv", b"z.csv"))
    with pytest.raises(CorruptObjectError):
        odb.read_manifest(oid)


def test_trusted_oid_equals_validated_oid() -> None:
    assert Oid.trusted("a" * 64) == Oid("a" * 64)


PATHS = [
    "a", "a/b.txt", "d1/d2/f", "x y/ü.bin", "a\nb", ".hidden", "...", ".../x", "a/.b", "a..b", "C", "C:",
    "C:x", "c:/x", "~", "~x/y", "x/~", "/abs", "a//b", "a/./b", "./a", "a/", "a/.", "a/..", "../a", "a/../b",
    ".", "..", "", "a\\b", "a\x00b", ".git", ".GIT/x", "a/.git/b", "a/.Git", ".pv", ".PV/x", "a/.pv",
    "x.github/y", ".gitignore", "a/.gitattributes", ".pvignore", ".pvx",
]


@pytest.mark.parametrize("path", PATHS)
def test_a_manifest_entry_path_is_judged_as_check_relpath_judges_it(path: str) -> None:
    """from_bytes takes plainly normal paths by one match; everything else by check_relpath."""
    from pipever.errors import PathOutsideRepoError
    from pipever.paths import check_relpath

    oid = hash_bytes(b"x")
    data = b'[{"path": %s, "oid": "%s", "size": 1, "isexec": false}]' % (
        mf._encode_str(path).encode(), str(oid).encode())
    try:
        expected: str | None = check_relpath(path)
    except PathOutsideRepoError:
        expected = None
    _judged_alike(data, expected, lambda m: m.entries[0].path)


@pytest.mark.parametrize("text", ["blake3:" + "a" * 64, "blake3:" + "A" * 64, "blake3:" + "a" * 63, "md5:" + "a" * 64,
                                  "blake3:" + "a" * 64 + "\n", "BLAKE3:" + "a" * 64, 7])
def test_a_manifest_entry_oid_is_judged_as_parse_oid_judges_it(text: object) -> None:
    import json

    data = json.dumps([{"path": "f", "oid": text, "size": 1, "isexec": False}]).encode()
    try:
        expected: Oid | None = parse_oid(text)
    except ValueError:
        expected = None
    _judged_alike(data, expected, lambda m: m.entries[0].oid)


def _judged_alike(data: bytes, expected: object, got: Callable[[mf.Manifest], object]) -> None:
    """``from_bytes`` refuses ``data`` where the reference check refused (``expected`` None),
    and otherwise reads the one entry as it did."""
    if expected is None:
        with pytest.raises(ManifestError):
            mf.from_bytes(data)
    else:
        m = mf.from_bytes(data)
        assert len(m.entries) == 1 and got(m) == expected
