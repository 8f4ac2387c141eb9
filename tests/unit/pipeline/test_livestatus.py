"""The live status file that ``pv repro``/``pv exp run`` write for ``pv ui``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipever.pipeline import livestatus


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, ...]] = []

    def planned(self, names: tuple[str, ...]) -> None:
        self.events.append(("planned", *names))

    def started(self, name: str, commands: tuple[str, ...]) -> None:
        self.events.append(("started", name))

    def output(self, name: str, text: str, *, stderr: bool) -> None:
        self.events.append(("output", name, text))

    def finished(self, name: str, outcome: object, detail: str | None) -> None:
        self.events.append(("finished", name, str(outcome)))


def doc(tmp: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((tmp / livestatus.STATUS_FILE).read_text())


def test_stages_go_queued_running_done_and_events_pass_through(tmp_path: Path) -> None:
    inner = Recorder()
    with livestatus.live(tmp_path, inner, command="pv repro") as rep:
        rep.planned(("a", "b"))
        assert {n: s["state"] for n, s in doc(tmp_path)["runs"][0]["stages"].items()} == {"a": "queued", "b": "queued"}
        rep.started("a", ("echo a",))
        assert doc(tmp_path)["runs"][0]["stages"]["a"]["state"] == "running"
        rep.output("a", "hello", stderr=False)
        rep.finished("a", "ran", None)
        rep.started("b", ())
        rep.finished("b", "failed", "exit code 3")
    assert inner.events == [  # the inner reporter saw everything, in order
        ("planned", "a", "b"), ("started", "a"), ("output", "a", "hello"), ("finished", "a", "ran"),
        ("started", "b"), ("finished", "b", "failed")]
    d = doc(tmp_path)
    assert (d["schema"], d["pid"], d["command"]) == (1, os.getpid(), "pv repro")
    [run] = d["runs"]
    assert run["result"] == "failed" and run["finished"] is not None
    assert run["stages"]["a"]["state"] == "done" and run["stages"]["a"]["outcome"] == "ran"
    assert run["stages"]["b"] == {**run["stages"]["b"], "state": "failed", "detail": "exit code 3"}


def test_an_interrupted_run_marks_its_running_stage(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        with livestatus.live(tmp_path / "sub", Recorder()) as rep:
            rep.started("a", ())
            raise KeyboardInterrupt
    [run] = doc(tmp_path / "sub")["runs"]
    assert run["result"] == "interrupted" and run["stages"]["a"]["state"] == "interrupted"


def test_a_wrapped_reporter_is_not_wrapped_twice_and_experiments_get_their_run(tmp_path: Path) -> None:
    with livestatus.live(tmp_path, Recorder(), experiment="e1") as outer:
        with livestatus.live(tmp_path, outer) as inner:
            assert inner is outer
            inner.started("s", ())
    with livestatus.live(tmp_path, Recorder()) as rep:
        rep.started("s", ())
        rep.finished("s", "ran", None)
    runs = {r["experiment"]: r for r in doc(tmp_path)["runs"]}
    assert set(runs) == {"e1", None} and runs["e1"]["result"] == "done"


def test_read_reports_a_dead_writer_as_interrupted(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True).stdout.strip()
    (tmp_path / livestatus.STATUS_FILE).write_text(json.dumps({
        "schema": 1, "pid": int(dead), "host": __import__("socket").gethostname(), "command": "pv repro", "updated": 1.0,
        "runs": [{"experiment": None, "result": "running", "stages": {"a": {"state": "running"}, "b": {"state": "done"}}}]}))
    d = livestatus.read(tmp_path)
    assert d is not None and d["active"] is False
    assert d["runs"][0]["result"] == "interrupted" and d["runs"][0]["stages"]["a"]["state"] == "interrupted"
    assert d["runs"][0]["stages"]["b"]["state"] == "done"


@pytest.mark.parametrize("text", ["", "{", "[]", '{"schema": 2, "runs": []}', '{"schema": 1, "runs": {}}'])
def test_read_ignores_what_it_cannot_use(tmp_path: Path, text: str) -> None:
    (tmp_path / livestatus.STATUS_FILE).write_text(text)
    assert livestatus.read(tmp_path) is None
    assert livestatus.read(tmp_path / "missing") is None
