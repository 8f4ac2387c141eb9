"""Physical limits on this machine, measured by the same runner: how fast could any tool be?

Each figure is the best of a few runs: BLAKE3 throughput on one core and on all cores, ``cp``
of the large file, ``cp -r`` of the small-file tree, the ``os.link`` rate, and Python start-up.
``lower_bounds`` turns them into a floor in seconds for the workloads they bound.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks import datagen
from benchmarks.measure import run_timed
from benchmarks.pipelines import FAN_DEPTH, LEAF_DEPTH
from benchmarks.sandbox import Sandbox, remove_tree
from benchmarks.scenario import Sizes

MIB = 1024 * 1024
HASH_BUFFER = 256 * MIB
RUNS = 3


@dataclass(frozen=True)
class Limits:
    blake3_1core_mib_s: float | None
    blake3_all_mib_s: float | None
    cp_big_s: float
    cp_tree_s: float
    links_per_s: float
    python_start_s: float
    big_bytes: int
    tree_bytes: int
    tree_files: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def blake3_throughput(buffer: bytes, *, all_cores: bool) -> float | None:
    """MiB/s hashing ``buffer`` in memory; None when the blake3 package is missing."""
    try:
        import blake3
    except ImportError:
        return None
    auto = getattr(blake3, "AUTO", blake3.blake3.AUTO)
    threads = auto if all_cores else 1
    best = float("inf")
    for _ in range(RUNS):
        start = time.perf_counter()
        blake3.blake3(buffer, max_threads=threads).digest()
        best = min(best, time.perf_counter() - start)
    return len(buffer) / MIB / best


def _best_wall(argv: list[str], cwd: Path, env: dict[str, str], cleanup: Path) -> float:
    best = float("inf")
    for _ in range(RUNS):
        sample = run_timed(argv, cwd=cwd, env=env)
        if not sample.ok:
            raise RuntimeError(f"{' '.join(argv)} failed: {sample.output_tail}")
        best = min(best, sample.wall_s)
        if cleanup.is_dir():
            remove_tree(cleanup)
        else:
            cleanup.unlink()
    return best


def _link_rate(tree: Path, layout: list[datagen.TreeFile], target: Path) -> float:
    for folder in {Path(item.path).parent for item in layout}:
        (target / folder).mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for item in layout:
        os.link(tree / item.path, target / item.path)
    return len(layout) / (time.perf_counter() - start)


def measure_limits(sizes: Sizes, tmp_parent: Path | None = None) -> Limits:
    with Sandbox(tmp_parent) as box:
        env, root = box.env, box.root
        big = root / "big.bin"
        datagen.write_big_file(big, sizes.big_file, seed=1)
        cp_big = _best_wall(["cp", str(big), "big.copy"], root, env, root / "big.copy")
        big.unlink()
        layout = datagen.tree_layout(sizes.n_files, seed=2)
        tree_bytes = datagen.write_tree(root / "tree", layout, seed=2)
        cp_tree = _best_wall(["cp", "-r", "tree", "tree.copy"], root, env, root / "tree.copy")
        links = _link_rate(root / "tree", layout, root / "links")
        start = min(
            run_timed([sys.executable, "-c", "pass"], cwd=root, env=env).wall_s
            for _ in range(max(RUNS, sizes.startup_reps))
        )
    buffer = b"".join(datagen.chunk_stream(min(HASH_BUFFER, sizes.big_file), seed=4))
    return Limits(
        blake3_1core_mib_s=blake3_throughput(buffer, all_cores=False),
        blake3_all_mib_s=blake3_throughput(buffer, all_cores=True),
        cp_big_s=cp_big,
        cp_tree_s=cp_tree,
        links_per_s=links,
        python_start_s=start,
        big_bytes=sizes.big_file,
        tree_bytes=tree_bytes,
        tree_files=len(layout),
    )


def lower_bounds(limits: Limits | None, sizes: Sizes) -> dict[str, tuple[float, str]]:
    """Per step id: the floor in seconds and what it is made of."""
    bounds: dict[str, tuple[float, str]] = {
        "W9-full": (FAN_DEPTH * sizes.stage_s, "critical path"),
        "W9-leaf": (LEAF_DEPTH * sizes.stage_s, "critical path"),
    }
    if limits is None:
        return bounds
    best = max(limits.blake3_all_mib_s or 0, limits.blake3_1core_mib_s or 0)
    if best:
        bounds["W1"] = (limits.big_bytes / MIB / best + limits.cp_big_s, "BLAKE3 + cp")
    if limits.blake3_1core_mib_s:
        hash_s = limits.tree_bytes / MIB / limits.blake3_1core_mib_s
        bounds["W2"] = (hash_s + limits.cp_tree_s, "BLAKE3 1 core + cp -r")
    bounds["W5"] = (limits.cp_tree_s, "cp -r")
    for step in (
        "W3",
        "W4",
        "W6-noop",
        "W9-noop",
        "W10-noop",
        "W11-version",
        "W11-status",
    ):
        bounds[step] = (limits.python_start_s, "python start-up")
    return bounds
