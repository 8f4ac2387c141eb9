"""The transfer engine and a local-folder Remote: bulk existence, ordering, partial failure."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipever.errors import CorruptObjectError, PvError
from pipever.objects.odb import ObjectDB, ObjectRef
from pipever.objects import manifest as mf
from pipever.remote import failures, transfer, url
from pipever.remote.base import Remote
from pipever.remote.local import LocalRemote


@pytest.fixture(params=[Remote, LocalRemote], ids=["fsspec-local", "stdlib-local"])
def remote_cls(request: pytest.FixtureRequest) -> type[Remote]:
    return request.param  # type: ignore[no-any-return]


def _remote(tmp_path: Path, cls: type[Remote] = Remote) -> Remote:
    """A remote in the loose layout (one file per object; the packed layout: test_packs.py)."""
    return cls("r", url.parse(str(tmp_path / "remote")), {"layout": "loose"})


def _translate(exc: BaseException) -> PvError:
    return failures.translate(exc, remote="r", where="x", redact=failures.Redactor(()))


def test_run_collects_failures_and_keeps_going() -> None:
    seen: list[int] = []

    def act(i: int) -> None:
        if i % 3 == 0:
            raise OSError(f"no {i}")
        seen.append(i)

    out = transfer.run(list(range(1, 10)), act, jobs=3, translate=_translate)
    assert sorted(out.done) == [1, 2, 4, 5, 7, 8]
    assert sorted(i for i, _ in out.failed) == [3, 6, 9]
    assert out.not_attempted == [] and out.fatal is None


def test_a_fatal_error_stops_new_items() -> None:
    def act(i: int) -> None:
        if i == 2:
            raise ConnectionRefusedError(111, "refused")

    out = transfer.run(list(range(1, 200)), act, jobs=1, translate=_translate)
    assert out.fatal is not None
    assert len(out.done) + len(out.failed) + len(out.not_attempted) == 199
    assert len(out.not_attempted) > 150


def test_run_draws_a_generator_while_earlier_items_run() -> None:
    """A push of a big file sends its first packs while the rest is still being cut."""
    first_ran = threading.Event()

    def items() -> Iterator[int]:
        yield 1
        assert first_ran.wait(10), "item 2 was asked for before item 1 ran"
        yield 2

    out = transfer.run(items(), lambda i: first_ran.set() if i == 1 else None, jobs=2, translate=_translate)
    assert sorted(out.done) == [1, 2]


def _store(odb: ObjectDB, data: bytes) -> ObjectRef:
    return ObjectRef(odb.add_bytes(data), False)


def test_upload_sends_manifests_only_after_their_files(tmp_path: Path, remote_cls: type[Remote]) -> None:
    odb = ObjectDB(tmp_path / "cache")
    a, b = _store(odb, b"a"), _store(odb, b"b")
    man = mf.Manifest.build([mf.Entry("a", a.oid, 1), mf.Entry("b", b.oid, 1)])
    d = ObjectRef(odb.add_manifest(man), True)
    rem = _remote(tmp_path, remote_cls)
    order: list[ObjectRef] = []
    real = rem.upload

    def upload(ref: ObjectRef, src: Path) -> None:
        if ref == b:
            raise OSError("disk full")
        order.append(ref)
        real(ref, src)

    rem.upload = upload  # type: ignore[method-assign]
    out = transfer.upload(rem, odb, [a, b], {d: [a, b]}, present=[], jobs=2)
    assert out.done == [a] and {r for r, _ in out.failed} == {b, d}
    assert not (tmp_path / "remote" / d.relpath).exists()
    rem.upload = real  # type: ignore[method-assign]
    out = transfer.upload(rem, odb, [b], {d: [a, b]}, present=[a], jobs=2)
    assert set(out.done) == {b, d} and not out.failed
    assert rem.existing([a, b, d]) == {a, b, d}
    assert not [p for p in (tmp_path / "remote").rglob("*.pvtmp")]


def test_existing_lists_prefixes_or_checks_objects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, remote_cls: type[Remote],
) -> None:
    odb = ObjectDB(tmp_path / "cache")
    refs = [_store(odb, str(i).encode()) for i in range(300)]
    rem = _remote(tmp_path, remote_cls)
    for r in refs[:100]:
        rem.upload(r, odb.path(r.oid))
    calls = {"list": 0, "exists": 0}
    real_list, real_exists = rem.list_shard, rem.exists
    monkeypatch.setattr(rem, "list_shard", lambda s: (calls.__setitem__("list", calls["list"] + 1), real_list(s))[1])
    monkeypatch.setattr(rem, "exists", lambda r: (calls.__setitem__("exists", calls["exists"] + 1), real_exists(r))[1])
    assert rem.existing(refs) == set(refs[:100])
    assert calls["exists"] == 0 and calls["list"] <= 256  # many objects: list their prefixes
    calls.update(list=0, exists=0)
    few = [refs[0], refs[150]]
    assert rem.existing(few) == {refs[0]}
    assert calls["list"] + calls["exists"] == 2


class FakeStore:
    """An object-store filesystem double: counts listings and existence checks."""

    def __init__(self, keys: set[str]) -> None:
        self.keys = keys
        self.calls = {"find": 0, "exists": 0}

    def find(self, path: str, prefix: str = "") -> list[str]:
        self.calls["find"] += 1
        want = path.rstrip("/") + "/" + prefix
        return sorted(k for k in self.keys if k.startswith(want))

    def exists(self, path: str) -> bool:
        self.calls["exists"] += 1
        return path in self.keys


def _store_remote(keys: set[str]) -> tuple[Remote, FakeStore]:
    rem = Remote("s", url.parse("s3://b/p"), {})
    fake = FakeStore(keys)
    rem._fs = fake
    return rem, fake


def test_object_store_lists_sixteen_prefixes_for_many_objects(tmp_path: Path) -> None:
    odb = ObjectDB(tmp_path / "cache")
    refs = [_store(odb, str(i).encode()) for i in range(400)]
    rem, fake = _store_remote({f"b/p/{r.relpath}" for r in refs[:200]})
    assert rem.existing_loose(refs) == set(refs[:200])
    assert fake.calls["exists"] == 0 and fake.calls["find"] <= 17  # one sample + one per hex digit


def test_object_store_checks_objects_one_by_one_when_few_are_wanted_from_a_big_remote(tmp_path: Path) -> None:
    odb = ObjectDB(tmp_path / "cache")
    refs = [_store(odb, str(i).encode()) for i in range(30)]
    # a big remote: 3,000 keys in the sampled prefix, so a listing of 16 prefixes is ~48 pages each
    counts: dict[str, int] = {}
    for r in refs:
        counts[r.oid.hex[:2]] = counts.get(r.oid.hex[:2], 0) + 1
    sample = max(counts, key=lambda s: counts[s])  # the prefix existing() samples first
    keys = {f"b/p/blake3/{sample}/{i:062x}" for i in range(3000)} | {f"b/p/{r.relpath}" for r in refs[:10]}
    rem, fake = _store_remote(keys)
    assert rem.existing_loose(refs) == set(refs[:10])
    assert fake.calls["find"] == 1 and fake.calls["exists"] == 30 - counts[sample]


def test_download_verifies_and_drops_corrupt_bytes(tmp_path: Path, remote_cls: type[Remote]) -> None:
    src = ObjectDB(tmp_path / "src")
    good = _store(src, b"good")
    bad = _store(src, b"bad")
    rem = _remote(tmp_path, remote_cls)
    rem.upload(good, src.path(good.oid))
    rem.upload(bad, src.path(bad.oid))
    (tmp_path / "remote" / bad.relpath).write_bytes(b"tampered")
    dst = ObjectDB(tmp_path / "dst")
    rem.download(good, dst)
    assert dst.path(good.oid).read_bytes() == b"good"
    assert not os.access(dst.path(good.oid), os.W_OK) or os.geteuid() == 0
    with pytest.raises(CorruptObjectError) as exc:
        rem.download(bad, dst)
    assert exc.value.message.startswith(f"object '{bad.oid}' in the remote 'r' is corrupt")
    assert not dst.exists(bad.oid)
    assert not [p for p in (tmp_path / "dst").rglob("*") if p.is_file() and p.name.endswith(".pvtmp")]


def test_iter_objects_skips_names_outside_the_layout(tmp_path: Path, remote_cls: type[Remote]) -> None:
    odb = ObjectDB(tmp_path / "cache")
    a = _store(odb, b"a")
    rem = _remote(tmp_path, remote_cls)
    rem.upload(a, odb.path(a.oid))
    root = tmp_path / "remote"
    (root / "README").write_text("x")
    (root / "blake3" / "zz").mkdir()
    (root / "blake3" / "zz" / "junk").write_text("x")
    (root / "blake3" / a.oid.hex[:2] / ".tmp.pvtmp").write_text("x")
    assert [ref for ref, _ in rem.iter_objects()] == [a]
    transfer.delete(rem, [a], jobs=2)
    assert list(rem.iter_objects()) == []
    assert (root / "README").exists()


def test_small_downloads_go_through_memory_and_are_still_verified(tmp_path: Path, remote_cls: type[Remote]) -> None:
    src = ObjectDB(tmp_path / "src")
    good, bad, liar = _store(src, b"good"), _store(src, b"bad"), _store(src, b"longer than recorded")
    rem = _remote(tmp_path, remote_cls)
    for r in (good, bad, liar):
        rem.upload(r, src.path(r.oid))
    (tmp_path / "remote" / bad.relpath).write_bytes(b"bax")
    dst = ObjectDB(tmp_path / "dst")
    rem.download(good, dst, size=4)
    assert dst.path(good.oid).read_bytes() == b"good"
    with pytest.raises(CorruptObjectError):
        rem.download(bad, dst, size=3)
    assert not dst.exists(bad.oid)
    rem.download(liar, dst, size=3)  # a wrong recorded size: streamed instead, and the hash decides
    assert dst.path(liar.oid).read_bytes() == b"longer than recorded"
