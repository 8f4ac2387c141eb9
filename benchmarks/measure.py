"""Run one command in a fresh process and measure it: wall time and the child's peak RSS.

Peak RSS comes from the kernel through ``os.wait4``, which reports the child's ``ru_maxrss``
(including any grandchildren it waited for), so nothing runs inside the measured process.

Linux carries the high-water mark of the address space a process had before ``exec`` into
its ``ru_maxrss``, so a child spawned straight from the runner (which holds the moto server and
hash buffers) would report the runner's size. Each command is therefore started by a tiny
launcher (``python -I -S``, ~8 MiB) that spawns it, times spawn-to-reap, and reports the
``wait4`` figures on a pipe: peak RSS has a floor of ~8 MiB and wall time excludes the launcher.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

TAIL_CHARS = 600


@dataclass(frozen=True)
class Sample:
    """One measured run (or several commands run back to back, see ``combine``)."""

    wall_s: float
    peak_rss_mb: float
    returncode: int
    output_tail: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass(frozen=True)
class Stats:
    """Median and range of repeated measurements."""

    median: float
    low: float
    high: float
    n: int


def maxrss_to_mb(maxrss: int, platform: str = sys.platform) -> float:
    """``ru_maxrss`` is KiB on Linux and bytes on macOS; return MiB."""
    return maxrss / (1024 * 1024) if platform == "darwin" else maxrss / 1024


LAUNCHER = """
import os, sys, time
fd = int(sys.argv[1])
start = time.perf_counter()
pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
code = os.waitstatus_to_exitcode(status)
os.write(fd, f"{wall!r} {usage.ru_maxrss} {code}".encode())
"""
NOT_STARTED = 127


def parse_report(report: str) -> tuple[float, int, int] | None:
    """The launcher's ``wall maxrss returncode`` line; None if it never got to write it."""
    parts = report.split()
    if len(parts) != 3:
        return None
    return float(parts[0]), int(parts[1]), int(parts[2])


def run_timed(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> Sample:
    """Run ``argv`` to completion; stdout and stderr go to a temp file, never to a pipe."""
    read_end, write_end = os.pipe()
    try:
        with tempfile.TemporaryFile() as out:
            start = time.perf_counter()
            launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, str(write_end), *argv]
            proc = subprocess.Popen(
                launcher,
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                pass_fds=(write_end,),
            )
            os.close(write_end)
            write_end = -1
            proc.wait()
            outer_wall = time.perf_counter() - start
            report = parse_report(os.read(read_end, 256).decode())
            size = out.seek(0, os.SEEK_END)
            out.seek(max(0, size - TAIL_CHARS * 4))
            tail = out.read().decode(errors="replace")[-TAIL_CHARS:]
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)
    if report is None:
        return Sample(outer_wall, 0.0, proc.returncode or NOT_STARTED, tail)
    wall, maxrss, code = report
    return Sample(wall, maxrss_to_mb(maxrss), code, tail)


def combine(samples: Sequence[Sample]) -> Sample:
    """Commands run one after the other: times add up, the peak is the largest peak."""
    failed = [s for s in samples if not s.ok]
    last = failed[0] if failed else samples[-1]
    return Sample(
        sum(s.wall_s for s in samples),
        max(s.peak_rss_mb for s in samples),
        last.returncode,
        last.output_tail,
    )


def summarize(values: Sequence[float]) -> Stats:
    """Median, min and max; raises ``ValueError`` on an empty sequence."""
    if not values:
        raise ValueError("no values to summarize")
    return Stats(statistics.median(values), min(values), max(values), len(values))


def best_of(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], runs: int) -> Stats:
    """Median/min/max wall time of ``runs`` runs of a command that must succeed."""
    samples = [run_timed(argv, cwd=cwd, env=env) for _ in range(runs)]
    for sample in samples:
        if not sample.ok:
            raise RuntimeError(f"{' '.join(argv)} exited {sample.returncode}: {sample.output_tail}")
    return summarize([s.wall_s for s in samples])
