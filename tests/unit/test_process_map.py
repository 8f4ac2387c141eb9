"""``concurrency.process_map``: forked workers for loops of small system calls (add, checkout)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from pipever import concurrency
from pipever.concurrency import process_map

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked workers are Linux-only")


def _gone(pids: set[int]) -> bool:
    """The workers were waited for: no process (not even a zombie) is left under those pids."""
    return bool(pids) and not any(Path(f"/proc/{p}").exists() for p in pids)


def test_results_come_back_in_order_from_other_processes() -> None:
    seen: list[int] = []
    out = process_map(lambda x: (x * x, os.getpid()), list(range(40)), procs=2,
                      on_result=lambda i, r: seen.append(i))
    assert out is not None
    assert [r[0] for r in out] == [x * x for x in range(40)]
    assert os.getpid() not in {r[1] for r in out}  # every item ran in a worker
    assert sorted(seen) == list(range(40))  # reported here, once each
    assert _gone({r[1] for r in out})


def test_a_raising_item_is_run_again_here_so_the_real_error_is_raised(tmp_path: Path) -> None:
    parent = os.getpid()

    def fn(x: int) -> int:
        if x == 5:
            (tmp_path / f"ran-in-{os.getpid()}").write_text("")
            raise ValueError(f"bad item {x}")
        return x

    with pytest.raises(ValueError, match="bad item 5"):
        process_map(fn, list(range(10)), procs=2)
    ran = {p.name for p in tmp_path.iterdir()}
    assert f"ran-in-{parent}" in ran and len(ran) == 2  # first in a worker, then here
    assert _gone({int(n.rsplit("-", 1)[1]) for n in ran} - {parent})


def test_an_item_whose_worker_died_is_run_here() -> None:
    parent = os.getpid()

    def fn(x: int) -> tuple[int, int]:
        if x == 3 and os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return x + 1, os.getpid()

    out = process_map(fn, list(range(12)), procs=2)
    assert out is not None and [r[0] for r in out] == list(range(1, 13))
    assert out[3][1] == parent  # its worker died: run here
    assert _gone({r[1] for r in out} - {parent})


def test_ctrl_c_hands_out_nothing_more_lets_running_items_finish_and_raises(tmp_path: Path) -> None:
    def fn(x: int) -> int:
        time.sleep(0.15)
        (tmp_path / f"{x}.tmp").write_text(str(os.getpid()))
        os.rename(tmp_path / f"{x}.tmp", tmp_path / f"{x}.done")
        return x

    timer = threading.Timer(0.4, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            process_map(fn, list(range(40)), procs=2)
    finally:
        timer.cancel()
    done = sorted(int(p.stem) for p in tmp_path.glob("*.done"))
    assert 0 < len(done) < 40  # stopped early: it did not run on to the end
    assert not list(tmp_path.glob("*.tmp"))  # no item was cut off half way
    assert _gone({int(p.read_text()) for p in tmp_path.glob("*.done")})


def test_none_where_it_cannot_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    assert process_map(str, [1, 2, 3], procs=1) is None  # one worker: the caller's loop
    assert process_map(str, [1], procs=4) is None
    box: list[object] = []
    t = threading.Thread(target=lambda: box.append(process_map(str, [1, 2, 3], procs=2)))
    t.start()
    t.join()
    assert box == [None]  # not the main thread: signals and fork safety are the main thread's
    monkeypatch.setattr(concurrency.sys, "platform", "darwin")
    assert process_map(str, [1, 2, 3], procs=2) is None


def test_workers_die_with_their_parent(tmp_path: Path) -> None:
    """kill -9 of pv: its workers (which hold the repo lock's descriptor) stop at once."""
    script = tmp_path / "parent.py"
    pids = tmp_path / "pids"
    script.write_text(
        "import os, sys, time\n"
        "from pipever.concurrency import process_map\n"
        f"def fn(x):\n    open({str(pids)!r} + '/' + str(os.getpid()), 'w').close(); time.sleep(60)\n"
        "process_map(fn, [1, 2], procs=2)\n"
    )
    pids.mkdir()
    import subprocess

    proc = subprocess.Popen([sys.executable, str(script)], cwd=Path(__file__).parents[2])
    deadline = time.monotonic() + 30
    while len(list(pids.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = [int(p.name) for p in pids.iterdir()]
    assert len(workers) == 2
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    alive = workers
    while alive and time.monotonic() < deadline:
        alive = [w for w in workers if Path(f"/proc/{w}").exists() and "Z" not in _state(w)]
        time.sleep(0.05)
    assert alive == []


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"
