"""W13: what a new version of a big file costs on S3 (issue 15), for the three edits of the issue:
10% of a 256 MiB binary overwritten in 10 places, 1 MiB inserted near its start, 1% rows appended
to a 64 MiB CSV. Both tools push v1 and v2 to the benchmark's moto server, which counts the body
bytes that go over HTTP. Per edit, as a percentage of the new file's size:

- the bucket's growth for v2 (stored bytes under the remote's prefix, after minus before);
- the bytes S3 received during the push of v2 (what went over the wire, indexes and lists too);
- the bytes S3 served when a clone that pulled v1 pulls v2 (its cache holds v1);
- the bytes S3 served to a fresh clone pulling v2, whose file must be byte-identical to v2 (and
  the updated clone's too): a difference is an error in the report, not a figure.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from benchmarks.scenario import Ctx, Scenario, Step

CASES = ("W13-overwrite", "W13-insert", "W13-append")
FILE = "model.bin"


def _binary(size: int) -> bytes:
    rng = random.Random(13)  # randbytes takes at most 256 MiB at once
    return b"".join(rng.randbytes(min(16 << 20, size - at)) for at in range(0, size, 16 << 20))


def _csv(size: int) -> bytes:
    rng = random.Random(14)
    rows: list[str] = []
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


def first_version(case: str, big_file: int) -> bytes:
    """256 MiB binary / 64 MiB CSV at full size; at least 8 MiB (twice pv's default chunking
    threshold) at quick size."""
    if case == "W13-append":
        return _csv(max(big_file // 32, 8 << 20))
    return _binary(max(big_file // 8, 8 << 20))


def _replace(path: Path, data: bytes) -> None:
    if path.exists():
        os.chmod(path, 0o644)  # the tool may have made it read-only or a link into its cache
        path.unlink()
    path.write_bytes(data)


def _commit(ctx: Ctx, repo: Path, message: str) -> None:
    ctx.setup(["git", "add", "-A"], cwd=repo)
    ctx.setup(["git", "commit", "-q", "-m", message], cwd=repo)


def _pull_checked(ctx: Ctx, step_id: str, clone: Path, expected: bytes) -> tuple[int, int]:
    """``pull`` in ``clone``; the bytes S3 served and its requests. The file must equal
    ``expected``."""
    before = ctx.s3.traffic()
    ctx.run_tool("pull", cwd=clone)
    took = ctx.s3.traffic() - before
    got = (clone / FILE).read_bytes() if (clone / FILE).is_file() else None
    if got != expected:
        what = "is missing" if got is None else f"differs ({len(got)} bytes, expected {len(expected)})"
        ctx.fail(step_id, f"{FILE} pulled by `{ctx.tool.name} pull` {what}")
    return took.served, took.requests


def new_version(ctx: Ctx, case: str) -> None:
    if ctx.s3 is None or ctx.s3_url is None:
        raise RuntimeError("no S3 server")
    url = ctx.s3_url()
    try:
        _measure(ctx, case, url)
    finally:
        ctx.s3.clear(url)  # moto holds objects in memory


def _measure(ctx: Ctx, case: str, url: str) -> None:
    repo = ctx.new_repo("repo")
    ctx.run_tool("remote", "add", "-d", "s3", url, cwd=repo)
    ctx.run_tool("remote", "modify", "s3", ctx.tool.flavor.endpoint_option, ctx.s3_endpoint, cwd=repo)
    v1 = first_version(case, ctx.sizes.big_file)
    _replace(repo / FILE, v1)
    ctx.run_tool("add", FILE, cwd=repo)
    _commit(ctx, repo, "v1")
    ctx.run_tool("push", cwd=repo)
    updated = ctx.root / "clone-v1"
    ctx.setup(["git", "clone", "-q", str(repo), str(updated)], cwd=ctx.root)
    _pull_checked(ctx, f"{case}-pull", updated, v1)

    v2 = _edit(case, v1)
    del v1
    _replace(repo / FILE, v2)
    ctx.run_tool("add", FILE, cwd=repo)
    _commit(ctx, repo, "v2")
    stored, before = ctx.s3.stored(url), ctx.s3.traffic()
    ctx.run_tool("push", cwd=repo)
    pushed = ctx.s3.traffic() - before
    grew = ctx.s3.stored(url) - stored
    percent = 100.0 / len(v2)
    ctx.record(case, grew * percent)
    ctx.record(f"{case}-sent", pushed.received * percent, requests=pushed.requests)

    ctx.setup(["git", "pull", "-q"], cwd=updated)
    served, requests = _pull_checked(ctx, f"{case}-pull", updated, v2)
    ctx.record(f"{case}-pull", served * percent, requests=requests)

    fresh = ctx.root / "clone-fresh"
    ctx.setup(["git", "clone", "-q", str(repo), str(fresh)], cwd=ctx.root)
    served, requests = _pull_checked(ctx, f"{case}-clone", fresh, v2)
    ctx.record(f"{case}-clone", served * percent, requests=requests)


WHAT = {
    "W13-overwrite": "v2: 10% overwritten",
    "W13-insert": "v2: 1 MiB inserted",
    "W13-append": "v2: 1% rows appended",
}
NEEDS = ("remote", "push", "pull")


def _scenario(case: str) -> Scenario:
    what = WHAT[case]
    return Scenario(
        case,
        (
            Step(case, f"{what}: S3 bucket growth", NEEDS, unit="%"),
            Step(f"{case}-sent", f"{what}: bytes received by S3 (push)", NEEDS, unit="%"),
            Step(f"{case}-pull", f"{what}: bytes served by S3 (pull, cache has v1)", NEEDS, unit="%"),
            Step(f"{case}-clone", f"{what}: bytes served by S3 (fresh clone + pull, identical)", NEEDS,
                 unit="%"),
        ),
        lambda ctx: new_version(ctx, case),
        ("init", "add", *NEEDS),
        max_reps=1,  # bytes, not times: one run says it all
        needs_s3=True,
    )


SCENARIOS = tuple(_scenario(case) for case in CASES)
