"""What travels between the driver and a worker: a ``StageTask`` out, a ``TaskResult`` back.

Plain frozen values (pickled by Dask), oids as ``blake3:<hex>`` strings. A task names its file
tree by oid only; the worker reads every object from the remote and checks its hash, so a task
never carries data and never needs the driver's disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipever.remote.url import RemoteURL

TAIL_LINES = 40


@dataclass(frozen=True)
class RemoteRef:
    """The remote both sides use: its name, parsed URL and the options the worker may have
    (secrets only when credentials are forwarded)."""

    name: str
    spec: RemoteURL
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TreePart:
    """A path of the stage's tree and the object that fills it (a file, or a directory manifest)."""

    path: str  # repo-relative POSIX
    oid: str
    is_dir: bool = False
    isexec: bool = False


@dataclass(frozen=True)
class OutSpec:
    path: str  # repo-relative
    persist: bool = False


@dataclass(frozen=True)
class StageTask:
    stage: str  # the stage's name, for messages and PV_STAGE
    commands: tuple[str, ...]
    wdir: str  # repo-relative
    outs: tuple[OutSpec, ...]
    tree: str  # oid of the manifest of the workspace's Git-tracked files
    extra: tuple[TreePart, ...]  # deps and persistent outs not in the tree (or newer than it)
    remote: RemoteRef
    env: dict[str, str] = field(default_factory=dict)  # PV_*/DVC_* variables of the run
    stop_event: str | None = None  # name of the distributed.Event that stops the command


@dataclass(frozen=True)
class OutResult:
    path: str
    oid: str
    size: int
    nfiles: int | None = None  # directories only


@dataclass(frozen=True)
class TaskResult:
    stage: str
    returncode: int  # of the first failing command, 0 when all succeeded
    command: str | None = None  # the failing command
    error: str | None = None  # why, when the command itself did not fail (not started, an out missing)
    outs: tuple[OutResult, ...] = ()  # when returncode == 0 and error is None
    tail: tuple[str, ...] = ()  # the last lines of the commands' output (stdout and stderr merged)
    host: str = ""  # the worker's address
    seconds: float = 0.0  # time spent on the worker (tree, commands, outputs)
    command_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.error is None
