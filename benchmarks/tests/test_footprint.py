from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.footprint import measure_venv, pip_command


@pytest.mark.skipif(os.name == "nt", reason="POSIX venv layout")
def test_measure_venv_counts_each_distribution_once(tmp_path: Path) -> None:
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    (site / "a-1.0.dist-info").mkdir(parents=True)
    (site / "b-2.0.dist-info").mkdir()
    (site / "a.py").write_bytes(b"x" * 1000)
    (tmp_path / "lib64").symlink_to("lib")
    footprint = measure_venv(tmp_path)
    assert footprint.packages == 2
    assert footprint.size_bytes == 1000


def test_pip_command_targets_the_venv(tmp_path: Path) -> None:
    outer = pip_command(tmp_path, outer=True)
    assert outer[1:4] == ["-m", "pip", "--python"] and outer[-3:] == [
        "install",
        "-q",
        "--disable-pip-version-check",
    ]
    inner = pip_command(tmp_path, outer=False)
    assert inner[0].startswith(str(tmp_path)) and inner[1:4] == ["-m", "pip", "install"]
