"""Ctrl-C in a long command: exit 130, no temp files, lock released, the next command works."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import PvRunner


def test_sigint_during_add_exits_130_and_leaves_a_usable_repo(pv_repo: Path, pv: PvRunner) -> None:
    for i in range(4000):
        d = pv_repo / "data" / f"d{i % 50}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i}").write_bytes(os.urandom(512) + str(i).encode())
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipever", "add", "data"], cwd=pv_repo,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    lock_info = pv_repo / ".pv/tmp/lock.info"
    deadline = time.monotonic() + 30
    while not lock_info.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (err, _out)
    assert err.endswith("ERROR: interrupted\n"), (err, _out)
    assert "Traceback" not in err
    assert not (pv_repo / "data.pv").exists()  # the pointer is written last
    assert not list((pv_repo / ".pv").rglob("*.pvtmp"))
    assert not lock_info.exists()
    assert pv.ok("fsck").stdout.startswith("Checked ")  # every object that got in is whole
    pv.ok("add", "data")
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"
