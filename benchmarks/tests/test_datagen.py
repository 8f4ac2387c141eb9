from __future__ import annotations

import hashlib
from pathlib import Path

from benchmarks import datagen


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def test_big_file_is_deterministic_and_exact_size(tmp_path: Path) -> None:
    size = 3 * datagen.CHUNK + 12345
    datagen.write_big_file(tmp_path / "a", size, seed=7)
    datagen.write_big_file(tmp_path / "b", size, seed=7)
    datagen.write_big_file(tmp_path / "c", size, seed=8)
    a = (tmp_path / "a").read_bytes()
    assert len(a) == size
    assert a == (tmp_path / "b").read_bytes()
    assert a != (tmp_path / "c").read_bytes()


def test_big_file_chunks_do_not_repeat() -> None:
    chunks = list(datagen.chunk_stream(8 * datagen.CHUNK, seed=1))
    blocks = {chunk[i : i + 4096] for chunk in chunks for i in range(0, len(chunk), 4096)}
    assert len(blocks) == 8 * datagen.CHUNK // 4096


def test_tree_layout_sizes_and_paths() -> None:
    layout = datagen.tree_layout(450, seed=2)
    assert len(layout) == 450
    assert all(datagen.MIN_FILE <= f.size <= datagen.MAX_FILE for f in layout)
    assert len({f.path for f in layout}) == 450
    assert layout[0].path == "d000/f000.bin" and layout[-1].path == "d002/f049.bin"
    assert layout == datagen.tree_layout(450, seed=2)


def test_tree_is_deterministic_with_unique_files(tmp_path: Path) -> None:
    layout = datagen.tree_layout(300, seed=2)
    total = datagen.write_tree(tmp_path / "one", layout, seed=2)
    datagen.write_tree(tmp_path / "two", layout, seed=2)
    assert total == sum(f.size for f in layout)
    assert _digest(tmp_path / "one") == _digest(tmp_path / "two")
    contents = {(tmp_path / "one" / f.path).read_bytes() for f in layout}
    assert len(contents) == 300


def test_change_files_rewrites_the_same_seeded_files(tmp_path: Path) -> None:
    layout = datagen.tree_layout(200, seed=2)
    datagen.write_tree(tmp_path / "t", layout, seed=2)
    before = {f.path: (tmp_path / "t" / f.path).read_bytes() for f in layout}
    changed = datagen.change_files(tmp_path / "t", layout, 10, seed=3)
    assert changed == datagen.change_files(tmp_path / "t", layout, 10, seed=3)
    assert len(changed) == 10
    after = {f.path: (tmp_path / "t" / f.path).read_bytes() for f in layout}
    assert {p for p in before if before[p] != after[p]} == set(changed)
