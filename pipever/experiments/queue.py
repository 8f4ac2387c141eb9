"""What an experiment run is made of (``RunSpec``), and the queue of runs not started yet.

A spec is complete when it is made: the baseline commit, the text of every file the run writes
over it (``pv.yaml``, params files and files with uncommitted changes as the workspace had
them, with the ``-S`` overrides applied) and the name. So a queued run does what was asked when it was queued, whatever happens
to the workspace meanwhile. The queue is one JSON file per run in ``.pv/tmp/exp-queue``
(git-ignored), written atomically and named so that they sort in queueing order.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipever import fsutil
from pipever.errors import ExperimentError

QUEUE_DIR = "exp-queue"
FORMAT = 1


@dataclass(frozen=True)
class RunSpec:
    name: str
    baseline: str  # commit sha
    files: dict[str, str | None] = field(default_factory=dict)  # repo-relative path -> text (None: delete)
    overrides: tuple[str, ...] = ()  # the -S arguments, as written
    created: float = 0.0  # seconds since the epoch
    id: str = ""  # the queue entry's id ('' when not queued)

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "name": self.name, "baseline": self.baseline, "files": self.files,
                           "overrides": list(self.overrides), "created": self.created}, indent=1)

    @classmethod
    def from_json(cls, text: str, id: str) -> RunSpec:
        try:
            data: Any = json.loads(text)
            files = data["files"]
            if data.get("format") != FORMAT or not isinstance(files, dict):
                raise ValueError("unknown format")
            return cls(str(data["name"]), str(data["baseline"]),
                       {str(k): (v if v is None else str(v)) for k, v in files.items()},
                       tuple(str(o) for o in data.get("overrides", ())), float(data.get("created", 0)), id)
        except (ValueError, KeyError, TypeError) as exc:
            raise ExperimentError(f"queued experiment '{id}' is unreadable: {exc}",
                                  hint=f"remove '{QUEUE_DIR}/{id}.json' from .pv/tmp") from exc


class Queue:
    def __init__(self, directory: Path) -> None:
        self.dir = directory

    def add(self, spec: RunSpec) -> RunSpec:
        entry_id = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        fsutil.atomic_write_text(self.dir / f"{entry_id}.json", spec.to_json())
        return RunSpec(spec.name, spec.baseline, spec.files, spec.overrides, spec.created, entry_id)

    def entries(self) -> list[RunSpec]:
        """Queued runs, oldest first."""
        if not self.dir.is_dir():
            return []
        found = []
        for path in sorted(self.dir.glob("*.json")):
            if not fsutil.is_tmp_name(path.name):
                found.append(RunSpec.from_json(path.read_text(encoding="utf-8"), path.stem))
        return found

    def has(self, entry_id: str) -> bool:
        return (self.dir / f"{entry_id}.json").is_file()

    def remove(self, entry_id: str) -> None:
        fsutil.remove(self.dir / f"{entry_id}.json")
