"""What ``pv queue start`` leaves for the other ``pv queue`` commands, which never take the repo
lock it holds: beside the queue (``.pv/tmp/exp-queue``), ``running/<name>.json`` (the process
running it), ``logs/<name>.log`` (its stages' output), ``done/<name>.json`` (how it ended) and
``kill/<name>`` (a request to stop it, which the running process polls). Files are written
atomically; names are experiment names (checked by ``names.check_name``)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from pipever import fsutil

RUNNING, LOGS, DONE, KILL = "running", "logs", "done", "kill"


@dataclass(frozen=True)
class Running:
    name: str
    pid: int
    started: float

    @property
    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


@dataclass(frozen=True)
class Ended:
    name: str
    status: str  # success | failed | killed
    detail: str
    ended: float


class QueueState:
    def __init__(self, directory: Path) -> None:
        self.dir = directory

    def _file(self, kind: str, name: str, suffix: str = "") -> Path:
        return self.dir / kind / f"{name}{suffix}"

    # -- written by the running process ---------------------------------------------------------
    def started(self, name: str) -> None:
        fsutil.remove(self._file(KILL, name))
        fsutil.remove(self._file(DONE, name, ".json"))
        log = self._file(LOGS, name, ".log")
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("", encoding="utf-8")
        fsutil.atomic_write_text(self._file(RUNNING, name, ".json"),
                                 json.dumps({"pid": os.getpid(), "started": time.time()}))

    def log(self, name: str, text: str) -> None:
        with open(self._file(LOGS, name, ".log"), "a", encoding="utf-8") as f:
            f.write(text + "\n")

    def ended(self, name: str, status: str, detail: str = "") -> None:
        fsutil.atomic_write_text(self._file(DONE, name, ".json"),
                                 json.dumps({"status": status, "detail": detail, "ended": time.time()}))
        fsutil.remove(self._file(RUNNING, name, ".json"))
        fsutil.remove(self._file(KILL, name))

    def kill_requested(self, name: str) -> bool:
        return self._file(KILL, name).exists()

    # -- read by the other commands -------------------------------------------------------------
    def running(self) -> list[Running]:
        found = []
        for path in sorted((self.dir / RUNNING).glob("*.json")):
            if fsutil.is_tmp_name(path.name):
                continue
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                found.append(Running(path.stem, int(data["pid"]), float(data["started"])))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return found

    def ended_runs(self) -> list[Ended]:
        found = []
        for path in sorted((self.dir / DONE).glob("*.json")):
            if fsutil.is_tmp_name(path.name):
                continue
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                found.append(Ended(path.stem, str(data["status"]), str(data.get("detail", "")), float(data["ended"])))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return sorted(found, key=lambda e: e.ended)

    def log_path(self, name: str) -> Path:
        return self._file(LOGS, name, ".log")

    def request_kill(self, name: str) -> None:
        fsutil.atomic_write_text(self._file(KILL, name), "kill\n")

    def forget(self, name: str) -> None:
        """Drop what an ended run left (its log and outcome)."""
        fsutil.remove(self._file(DONE, name, ".json"))
        fsutil.remove(self._file(LOGS, name, ".log"))
