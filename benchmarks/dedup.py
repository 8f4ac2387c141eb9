"""W13: what a new version of a big file costs on the remote (issue 15), for the three edits of
the issue: 10% of a binary overwritten in 10 places, 1 MiB inserted near its start, 1% rows
appended to a CSV. Each row is the remote's growth for the new version as a percentage of the
file's size (pushed to a local-folder remote; the bytes a pull downloads follow the same
chunks, see ``tests/functional/test_packs.py``)."""

from __future__ import annotations

import os
import random
from pathlib import Path

from benchmarks.scenario import Ctx, Scenario, Step

CASES = ("W13-overwrite", "W13-insert", "W13-append")


def _binary(size: int) -> bytes:
    rng = random.Random(13)  # randbytes takes at most 256 MiB at once
    return b"".join(rng.randbytes(min(16 << 20, size - at)) for at in range(0, size, 16 << 20))


def _csv(size: int) -> bytes:
    rng = random.Random(14)
    rows = []
    total = 0
    while total < size:
        row = f"{len(rows)},{rng.random():.6f},{rng.randrange(10**6)},{rng.choice('abcdefgh') * 8}\n"
        rows.append(row)
        total += len(row)
    return "".join(rows).encode()


def _edit(case: str, data: bytes) -> bytes:
    rng = random.Random(case)
    if case == "W13-overwrite":
        b = bytearray(data)
        n = len(b) // 100
        for _ in range(10):
            at = rng.randrange(0, len(b) - n)
            b[at:at + n] = rng.randbytes(n)
        return bytes(b)
    if case == "W13-insert":
        return data[:4096] + rng.randbytes(1 << 20) + data[4096:]
    text = data.decode()
    n_rows = text.count("\n")
    extra = "".join(f"{n_rows + i},{rng.random():.6f},{rng.randrange(10**6)},zzzzzzzz\n" for i in range(n_rows // 100))
    return (text + extra).encode()


def _size(root: Path) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(root) for f in files)


def dedup(ctx: Ctx) -> None:
    big = ctx.sizes.big_file // 8  # 256 MiB at full size
    for case in CASES:
        repo = ctx.new_repo(case)
        remote = ctx.root / f"remote-{case}"
        remote.mkdir()
        ctx.run_tool("remote", "add", "-d", "local", str(remote), cwd=repo)
        v1 = _csv(big // 4) if case == "W13-append" else _binary(big)
        (repo / "model.bin").write_bytes(v1)
        ctx.run_tool("add", "model.bin", cwd=repo)
        ctx.run_tool("push", cwd=repo)
        before = _size(remote)
        v2 = _edit(case, v1)
        os.chmod(repo / "model.bin", 0o644)
        (repo / "model.bin").unlink()
        (repo / "model.bin").write_bytes(v2)
        ctx.run_tool("add", "model.bin", cwd=repo)
        ctx.run_tool("push", cwd=repo)
        ctx.record(case, 100.0 * (_size(remote) - before) / len(v2))


SCENARIOS = (
    Scenario(
        "W13",
        (
            Step("W13-overwrite", "remote growth: 10% overwritten in 10 places", ("remote", "push"), unit="%"),
            Step("W13-insert", "remote growth: 1 MiB inserted near the start", ("remote", "push"), unit="%"),
            Step("W13-append", "remote growth: 1% rows appended to a CSV", ("remote", "push"), unit="%"),
        ),
        dedup,
        ("init", "add", "remote"),
        max_reps=1,
    ),
)
