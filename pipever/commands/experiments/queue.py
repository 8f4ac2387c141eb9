"""``pv queue status|logs|kill|remove``: the queued experiments and the runs of ``pv queue start``
(``exp_run.run_all``). These never take the repo lock, which a running ``queue start`` holds: they
read and write only the queue's own files (``experiments.queue_state``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pipever.commands.experiments.exp_run import queue_of, queue_state_of
from pipever.context import RepoContext
from pipever.errors import ExperimentError


@dataclass(frozen=True)
class Row:
    name: str
    status: str  # queued | running | success | failed | killed | interrupted
    detail: str = ""


@dataclass
class QueueStatus:
    rows: list[Row] = field(default_factory=list)


def status(repo: RepoContext) -> QueueStatus:
    """Ended runs (oldest first), running ones, then the queue in order."""
    state = queue_state_of(repo)
    running = {r.name: r for r in state.running()}
    rows = [Row(e.name, e.status, e.detail) for e in state.ended_runs() if e.name not in running]
    for r in running.values():
        rows.append(Row(r.name, "running", f"pid {r.pid}") if r.alive
                    else Row(r.name, "interrupted", "its 'pv queue start' process is gone"))
    rows += [Row(s.name, "queued", " ".join(f"-S {o}" for o in s.overrides)) for s in queue_of(repo).entries()
             if s.name not in running]
    return QueueStatus(rows)


def logs(repo: RepoContext, name: str) -> str:
    path = queue_state_of(repo).log_path(name)
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, NotADirectoryError):
        raise ExperimentError(f"no logs of experiment '{name}'",
                              hint="logs exist for experiments 'pv queue start' ran; see 'pv queue status'") from None


def kill(repo: RepoContext, name: str) -> None:
    """Ask the ``pv queue start`` running ``name`` to stop it (its commands are interrupted)."""
    state = queue_state_of(repo)
    run = next((r for r in state.running() if r.name == name), None)
    if run is None or not run.alive:
        raise ExperimentError(f"experiment '{name}' is not running",
                              hint="see 'pv queue status'; a queued one is removed with 'pv queue remove'")
    state.request_kill(name)


def remove(repo: RepoContext, names: Sequence[str], *, remove_all: bool = False) -> list[str]:
    """Take queued runs off the queue and forget ended ones (their logs); a running one is refused.
    Nothing is removed when a name is unknown."""
    state = queue_state_of(repo)
    q = queue_of(repo)
    running = {r.name for r in state.running() if r.alive}
    queued = q.entries()
    ended = {e.name for e in state.ended_runs()}
    known = {s.name for s in queued} | ended
    if not remove_all:
        for name in names:
            if name in running:
                raise ExperimentError(f"experiment '{name}' is running", hint=f"stop it with 'pv queue kill {name}'")
            if name not in known:
                raise ExperimentError(f"no queued experiment '{name}'", hint="see 'pv queue status'")
    wanted = known - running if remove_all else set(names)
    removed = []
    for spec in queued:
        if spec.name in wanted:
            q.remove(spec.id)
            removed.append(spec.name)
    for name in sorted(ended & wanted):
        state.forget(name)
        if name not in removed:
            removed.append(name)
    return removed
