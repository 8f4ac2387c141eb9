"""The on-disk bytes of packed remotes: index records, ids, pack grouping, pv-remote.yaml."""

from __future__ import annotations

import pytest

from pipever.objects.hashing import hash_bytes
from pipever.objects.odb import ObjectRef
from pipever.remote import packfmt as pf
from pipever.remote.options import layout, size


def _ref(data: bytes, is_dir: bool = False) -> ObjectRef:
    return ObjectRef(hash_bytes(data), is_dir)


def test_index_bytes_are_pinned() -> None:
    entries = pf.layout_entries([(_ref(b"a"), 1), (_ref(b"{}", True), 2)])
    data = pf.encode_index(entries, nonce=b"\0" * 16)
    assert data[:7] == b"PVIDX1\n" and len(data) == 7 + 16 + 2 * 49
    assert data[23:55] == bytes.fromhex(hash_bytes(b"a").hex)
    assert data[55:72] == b"\0" + (0).to_bytes(8, "big") + (1).to_bytes(8, "big")
    assert data[104:121] == b"\1" + (1).to_bytes(8, "big") + (2).to_bytes(8, "big")
    assert pf.index_id(data) == hash_bytes(data).hex
    assert pf.decode_index(data) == entries


def test_every_index_gets_its_own_id() -> None:
    entries = pf.layout_entries([(_ref(b"a"), 1)])
    assert pf.index_id(pf.encode_index(entries)) != pf.index_id(pf.encode_index(entries))


@pytest.mark.parametrize("data", [b"", b"PVIDX1\n", b"PVIDX1\n" + b"\0" * 16 + b"\0" * 48, b"nope" * 30,
                                  b"PVIDX1\n" + b"\0" * 16 + b"\0" * 32 + b"\7" + b"\0" * 16])
def test_bad_index_bytes_are_refused(data: bytes) -> None:
    with pytest.raises(pf.IndexFormatError):
        pf.decode_index(data)


def test_objects_are_grouped_into_packs_of_at_most_pack_size() -> None:
    items = [(_ref(str(i).encode()), n) for i, n in enumerate([5, 5, 5, 20, 1])]
    groups = pf.group_into_packs(items, 10)
    assert [[n for _, n in g] for g in groups] == [[5, 5], [5], [20], [1]]
    assert [r for g in groups for r, _ in g] == [r for r, _ in items]


def test_format_file_round_trips_and_rejects_nonsense() -> None:
    import yaml

    fmt = pf.RemoteFormat()
    assert pf.format_from_data(yaml.safe_load(pf.format_to_text(fmt))) == fmt
    assert fmt.chunking.avg_size == 64 << 10 and fmt.chunking.min_size == 16 << 10
    for bad in (None, [], {"format": "2"}, {"format": 2, "chunking": []}, {"format": 2, "chunking": {"avg_size": -1}}):
        with pytest.raises(ValueError):
            pf.format_from_data(bad)


def test_index_list_skips_other_lines() -> None:
    a = "a" * 64
    assert pf.parse_index_list(f"{a}\n\nnot-an-id\n{'b' * 64}\n") == [a, "b" * 64]


def test_size_and_layout_options() -> None:
    assert size("r", {}, "pack_size", 7) == 7
    assert size("r", {"pack_size": "64MiB"}, "pack_size", 7) == 64 << 20
    assert size("r", {"pack_size": 4096}, "pack_size", 7) == 4096
    assert size("r", {"pack_size": "1.5k"}, "pack_size", 7) == 1536
    from pipever.errors import RemoteError

    for bad in ("lots", "0", "-4M", "3 parsecs"):
        with pytest.raises(RemoteError):
            size("r", {"pack_size": bad}, "pack_size", 7)
    assert layout("r", {}) == "packed" and layout("r", {"layout": "Loose"}) == "loose"
    with pytest.raises(RemoteError):
        layout("r", {"layout": "zip"})
