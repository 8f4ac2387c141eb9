"""The command runner: events in order, failures, process groups stopped."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from pipever.pipeline import runner as runner_mod
from pipever.pipeline.runner import Finished, Line, Runner, shell


def events(runner: Runner, n_finished: int) -> list[object]:
    out: list[object] = []
    while sum(isinstance(e, Finished) for e in out) < n_finished:
        event = runner.next_event(timeout=30)
        assert event is not None
        out.append(event)
    return out


def test_commands_run_in_order_and_stream_lines(tmp_path: Path) -> None:
    runner = Runner()
    runner.start("s", ["echo one", "echo two >&2", "pwd"], cwd=tmp_path, env=dict(os.environ))
    got = events(runner, 1)
    assert got == [Line("s", "one", False), Line("s", "two", True), Line("s", str(tmp_path), False), Finished("s", 0)]


def test_a_failing_command_stops_the_stage(tmp_path: Path) -> None:
    runner = Runner()
    runner.start("s", ["exit 3", "touch never"], cwd=tmp_path, env=dict(os.environ))
    assert events(runner, 1) == [Finished("s", 3, "exit 3")]
    assert not (tmp_path / "never").exists()


def test_stop_all_kills_the_whole_process_group(tmp_path: Path) -> None:
    runner = Runner()
    runner.start("s", ["sleep 30 & echo $! > child.pid; wait"], cwd=tmp_path, env=dict(os.environ))
    deadline = time.monotonic() + 10
    while not (tmp_path / "child.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    runner.stop_all(grace=1.0)
    assert not runner.running
    child = int((tmp_path / "child.pid").read_text())
    time.sleep(0.1)
    try:
        os.kill(child, 0)
        alive = not Path(f"/proc/{child}/stat").read_text().split()[2] == "Z"
    except ProcessLookupError:
        alive = False
    assert not alive


def test_shell_is_a_posix_shell() -> None:
    assert shell({"SHELL": "/usr/bin/fish"}) == ["/bin/sh", "-c"]
    assert shell({}) == ["/bin/sh", "-c"]


def test_the_guard_runs_on_pvs_interpreter_isolated() -> None:
    argv = runner_mod.guarded(7)
    assert argv[:3] == [sys.executable, "-I", "-S"]
    assert argv[3].endswith("stage_guard.py") and argv[4] == "7"


def test_without_an_interpreter_commands_run_bare(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "executable", "")
    assert runner_mod.guarded(7) == []
    r = Runner()
    r.start("s", ["echo bare"], cwd=tmp_path, env=dict(os.environ))
    assert events(r, 1) == [Line("s", "bare", False), Finished("s", 0)]
