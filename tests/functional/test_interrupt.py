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


def test_ctrl_c_during_start_up_exits_130_with_one_line(pv_repo: Path) -> None:
    """SIGINT at any moment of start-up (imports, building the command line): exit 130 and
    'ERROR: interrupted', never a traceback (issue 16, case 15). Before Python has installed its
    handler the default action ends the process (-SIGINT, which a shell shows as 130 too)."""
    import shutil
    import signal
    import subprocess
    import sys
    import time

    script = shutil.which("pv", path=str(Path(sys.executable).parent)) or ""
    commands = [[sys.executable, "-m", "pipever", "status"], [script, "status"], [script, "params", "diff"]]
    seen: dict[object, int] = {}
    began = time.monotonic()
    subprocess.run(commands[0], cwd=pv_repo, capture_output=True, check=True)
    whole = time.monotonic() - began  # a whole run on this machine now: the signals fall within it
    for i in range(90):
        cmd = commands[i % len(commands)]
        proc = subprocess.Popen(cmd, cwd=pv_repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(whole * (i // len(commands)) / 30)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        seen[proc.returncode] = seen.get(proc.returncode, 0) + 1
        if "/pipever/" not in err and ("Traceback" in err or err.startswith("Fatal Python error: init")):
            continue  # in the interpreter's own start-up (site, runpy, the script pip wrote), before pv's code
        assert "Traceback" not in err and "Exception ignored" not in err, (cmd, i, err)
        assert proc.returncode in (0, 130, -signal.SIGINT), (cmd, i, proc.returncode, err)
        if proc.returncode == 130:
            assert err == "ERROR: interrupted\n", (cmd, i, err)
    assert seen.get(130, 0) >= 5, seen  # many signals land while pv starts
