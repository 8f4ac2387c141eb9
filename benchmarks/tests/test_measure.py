from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from benchmarks.measure import Sample, combine, maxrss_to_mb, parse_report, run_timed, summarize


def test_summarize_median_min_max() -> None:
    stats = summarize([3.0, 1.0, 2.0, 10.0])
    assert (stats.median, stats.low, stats.high, stats.n) == (2.5, 1.0, 10.0, 4)
    assert summarize([4.0]).median == 4.0
    with pytest.raises(ValueError):
        summarize([])


def test_maxrss_units() -> None:
    assert maxrss_to_mb(2048, "linux") == 2.0
    assert maxrss_to_mb(3 * 1024 * 1024, "darwin") == 3.0


def test_parse_report() -> None:
    assert parse_report("0.5 2048 0") == (0.5, 2048, 0)
    assert parse_report("") is None


def test_combine_adds_times_and_keeps_the_first_failure() -> None:
    ok = Sample(1.0, 50.0, 0, "")
    bad = Sample(0.5, 80.0, 2, "boom")
    total = combine([ok, bad, ok])
    assert total.wall_s == 2.5 and total.peak_rss_mb == 80.0
    assert (total.returncode, total.output_tail) == (2, "boom")


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss semantics checked on Linux")
def test_run_timed_reports_the_child_not_the_runner(tmp_path: Path) -> None:
    ballast = bytearray(200 * 1024 * 1024)  # the runner is big; the child must not look big
    ballast[::4096] = b"x" * len(ballast[::4096])
    sample = run_timed(["sh", "-c", "echo out; exit 3"], cwd=tmp_path, env=os.environ)
    assert sample.returncode == 3 and "out" in sample.output_tail
    assert sample.peak_rss_mb < 100
    missing = run_timed(["no-such-command-pv-bench"], cwd=tmp_path, env=os.environ)
    assert missing.returncode != 0 and not missing.ok
