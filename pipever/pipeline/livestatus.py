"""Live progress of ``pv repro`` / ``pv exp run``: a small JSON file under ``.pv/tmp`` that
``pv ui`` reads to colour running and failed stages (a failed stage leaves no ``pv.lock`` entry,
so the lock alone cannot tell).

The file belongs to the pv process that last ran stages (the repo lock allows one at a time); it
is replaced atomically on every stage event::

    {"schema": 1, "pid": 4242, "host": "box", "command": "pv repro", "updated": 1700000000.5,
     "runs": [{"experiment": null, "started": ..., "finished": null, "result": "running",
               "stages": {"train": {"state": "running", "outcome": null, "detail": null,
                                    "started": ..., "finished": null}}}]}

A stage's ``state`` is ``queued``, ``running``, ``done`` or ``failed`` (``interrupted`` when the
run stopped while it ran); a run's ``result`` is ``running``, ``done``, ``failed`` or
``interrupted``. A run is still going only while its process lives: ``read`` checks.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from pipever.fsutil import atomic_write_text

STATUS_FILE = "live-status.json"
SCHEMA = 1
FAILED = "failed"


class _Reporter(Protocol):  # ``pipever.commands.pipeline.repro.Reporter``, without importing the command layer
    def planned(self, names: tuple[str, ...]) -> None: ...

    def started(self, name: str, commands: tuple[str, ...]) -> None: ...

    def output(self, name: str, text: str, *, stderr: bool) -> None: ...

    def finished(self, name: str, outcome: Any, detail: str | None) -> None: ...


class _Board:
    """This process's status document for one repository; every change rewrites the file."""

    def __init__(self, path: Path, command: str) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.doc: dict[str, Any] = {"schema": SCHEMA, "pid": os.getpid(), "host": socket.gethostname(),
                                    "command": command, "updated": time.time(), "runs": []}

    def run(self, experiment: str | None) -> dict[str, Any]:
        runs: list[dict[str, Any]] = self.doc["runs"]
        found = next((r for r in runs if r["experiment"] == experiment), None)
        if found is None:
            found = {"experiment": experiment, "started": time.time(), "finished": None, "result": "running",
                     "stages": {}}
            runs.append(found)
        return found

    def update(self, experiment: str | None, change: Any) -> None:
        with self.lock:
            change(self.run(experiment))
            self.doc["updated"] = time.time()
            with contextlib.suppress(OSError):  # progress display only: never fail a run for it
                self.path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_text(self.path, json.dumps(self.doc, separators=(",", ":")))


_BOARDS: dict[Path, _Board] = {}
_BOARDS_LOCK = threading.Lock()


def _board(tmp_dir: Path, command: str) -> _Board:
    path = tmp_dir / STATUS_FILE
    with _BOARDS_LOCK:
        board = _BOARDS.get(path)
        if board is None:
            board = _BOARDS[path] = _Board(path, command)
        return board


class LiveReporter:
    """Passes every event on to ``inner`` and records stage starts and ends in the status file."""

    def __init__(self, inner: _Reporter, board: _Board, experiment: str | None) -> None:
        self.inner = inner
        self.board = board
        self.experiment = experiment

    def _stage(self, name: str, **values: Any) -> None:
        def change(run: dict[str, Any]) -> None:
            stage = run["stages"].setdefault(name, {"state": "queued", "outcome": None, "detail": None,
                                                    "started": None, "finished": None})
            stage.update(values)

        self.board.update(self.experiment, change)

    def planned(self, names: tuple[str, ...]) -> None:
        for name in names:
            self._stage(name)
        self.inner.planned(names)

    def started(self, name: str, commands: tuple[str, ...]) -> None:
        self._stage(name, state="running", started=time.time())
        self.inner.started(name, commands)

    def output(self, name: str, text: str, *, stderr: bool) -> None:
        self.inner.output(name, text, stderr=stderr)

    def finished(self, name: str, outcome: Any, detail: str | None) -> None:
        value = str(getattr(outcome, "value", outcome))
        self._stage(name, state=FAILED if value == FAILED else "done", outcome=value,
                    detail=detail if value == FAILED else None, finished=time.time())
        self.inner.finished(name, outcome, detail)


@contextlib.contextmanager
def live(tmp_dir: Path, reporter: Any, *, command: str = "pv", experiment: str | None = None) -> Iterator[Any]:
    """``reporter`` wrapped so the run's stages are written to the status file (once: a reporter
    already wrapped, as an experiment's inner ``repro`` gets it, is used as it is)."""
    if isinstance(reporter, LiveReporter):
        yield reporter
        return
    board = _board(tmp_dir, command)
    board.update(experiment, lambda run: run.update(started=time.time(), finished=None, result="running", stages={}))
    ok = False
    try:
        yield LiveReporter(reporter, board, experiment)
        ok = True
    finally:
        def close(run: dict[str, Any]) -> None:
            failed = any(s["state"] == FAILED for s in run["stages"].values())
            for stage in run["stages"].values():
                if stage["state"] == "running":
                    stage["state"] = "interrupted"
            run.update(finished=time.time(), result=FAILED if failed else "done" if ok else "interrupted")

        board.update(experiment, close)


def read(tmp_dir: Path) -> dict[str, Any] | None:
    """The status document, with ``active`` (its process still runs on this host); None when no
    run was recorded or the file is unreadable."""
    try:
        doc = json.loads((tmp_dir / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA or not isinstance(doc.get("runs"), list):
        return None
    doc["active"] = doc.get("host") == socket.gethostname() and _alive(doc.get("pid"))
    if not doc["active"]:  # the process is gone (killed): nothing is running any more
        for run in doc["runs"]:
            if isinstance(run, dict) and run.get("result") == "running":
                run["result"] = "interrupted"
                for stage in (run.get("stages") or {}).values():
                    if isinstance(stage, dict) and stage.get("state") == "running":
                        stage["state"] = "interrupted"
    return doc


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
