"""``pv repro``: run the stale stages of the pipeline in dependency order, and only those.

A stage runs when its cmd, a dep's content, a tracked param value or an output differs from
``pv.lock``, when it is ``always_changed``, or with ``force``; frozen stages never run. Whether a
stage is stale is decided when everything it needs is done, so a stage downstream of one that
reran runs only if its inputs really changed. A stage whose inputs match an earlier run restores
that run's outputs from the run cache. ``execute.Execution`` runs the schedule; this module
plans, checks the pipeline before anything is written, and holds the repo lock.
"""

from __future__ import annotations

import contextlib
import enum
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pipever.errors import StageError
from pipever.repo import Repo


class Outcome(str, enum.Enum):
    RAN = "ran"
    RESTORED = "restored"  # from the run cache
    UNCHANGED = "unchanged"
    MISSING = "missing"  # only data missing, skipped with allow_missing
    FROZEN = "frozen"
    FAILED = "failed"
    BLOCKED = "blocked"  # not run: a stage it needs failed
    STOPPED = "stopped"  # not run: the run stopped at a failure (no keep_going)
    WOULD_RUN = "would run"  # dry run


RECORDED = (Outcome.RAN, Outcome.RESTORED, Outcome.UNCHANGED, Outcome.MISSING, Outcome.FROZEN)


class Reporter(Protocol):
    """What the CLI shows while stages run; called on the thread that called ``repro``."""

    def planned(self, names: tuple[str, ...]) -> None: ...

    def started(self, name: str, commands: tuple[str, ...]) -> None: ...

    def output(self, name: str, text: str, *, stderr: bool) -> None: ...

    def finished(self, name: str, outcome: Outcome, detail: str | None) -> None: ...


class NullReporter:
    def planned(self, names: tuple[str, ...]) -> None:
        return None

    def started(self, name: str, commands: tuple[str, ...]) -> None:
        return None

    def output(self, name: str, text: str, *, stderr: bool) -> None:
        return None

    def finished(self, name: str, outcome: Outcome, detail: str | None) -> None:
        return None


NULL_REPORTER = NullReporter()


@dataclass(frozen=True)
class Options:
    force: bool = False
    jobs: int = 1
    keep_going: bool = False
    allow_missing: bool = False
    run_cache: bool = True


@dataclass
class ReproResult:
    outcomes: dict[str, Outcome] = field(default_factory=dict)  # planned stages, in run order
    failures: dict[str, str] = field(default_factory=dict)  # stage -> why it failed
    staged: list[str] = field(default_factory=list)  # paths staged in Git

    def of(self, *kinds: Outcome) -> list[str]:
        return [n for n, o in self.outcomes.items() if o in kinds]

    @property
    def changed(self) -> bool:
        """Whether anything ran or was restored (or would run, dry)."""
        return bool(self.of(Outcome.RAN, Outcome.RESTORED, Outcome.WOULD_RUN))


class ReproFailedError(StageError):
    def __init__(self, result: ReproResult) -> None:
        failed = list(result.failures.items())
        name, why = failed[0]
        more = f" (and {len(failed) - 1} more: {', '.join(repr(n) for n, _ in failed[1:])})" if len(failed) > 1 else ""
        super().__init__(f"failed to reproduce '{name}': {why}{more}",
                         hint="fix it and rerun 'pv repro'; the stages that succeeded are recorded in pv.lock")
        self.result = result


def repro(
    repo: Repo, targets: Sequence[str] = (), *, force: bool = False, single: bool = False,
    downstream: bool = False, dry: bool = False, jobs: int = 1, keep_going: bool = False,
    pull: bool = False, allow_missing: bool = False, run_cache: bool = True,
    reporter: Reporter = NULL_REPORTER, cancel: threading.Event | None = None,
) -> ReproResult:
    """Reproduce ``targets`` (stage or group names, ``pv.yaml:NAME`` or output paths; default:
    every stage). ReproFailedError (with the partial result) when a stage fails; KeyboardInterrupt
    passes through after the running commands are stopped (finished stages stay recorded).
    ``cancel``, set from another thread, stops the run the same way (``pv exp run --run-all -j``)."""
    from pipever.ops import stages as st
    from pipever.pipeline import dag

    pipeline = st.load_pipeline(repo)
    graph = dag.build_graph(pipeline)
    order = dag.plan(graph, st.resolve_targets(pipeline, targets, root=repo.root), downstream=downstream, single=single)
    if pull and not dry:
        from pipever.ops.repro_pull import pull_missing

        pull_missing(repo, pipeline, order)
    opts = Options(force=force, jobs=max(1, jobs), keep_going=keep_going, allow_missing=allow_missing,
                   run_cache=run_cache and not force)
    from pipever.ops.repro_run import Execution
    from pipever.pipeline.livestatus import live  # stage progress for 'pv ui'

    with repo.locked(), (contextlib.nullcontext(reporter) if dry else live(repo.tmp_dir, reporter, command=repo.command)) as reporter:
        from pipever.ops.lockio import read_lock

        lock = read_lock(repo)
        if not allow_missing:
            from pipever.ops.stage_state import Probe

            dag.check_deps(pipeline, graph, exists=Probe(repo).exists, stages=order)
        run = Execution(repo, pipeline, graph, lock, order, opts, reporter, cancel)
        try:
            result = run.dry() if dry else run.run()
        finally:
            repo.state.flush()
        if not dry and repo.autostage:
            # also what stages recorded earlier: a run killed before it staged them is completed
            recorded = [n for n in result.of(*RECORDED) if run.recorder.lock.get(n) is not None]
            paths = st.staged_paths(repo, pipeline, recorded) if recorded else []
            if paths:
                repo.git.add(paths)
            if result.of(Outcome.RAN, Outcome.RESTORED):
                result.staged = paths
    if result.failures:
        raise ReproFailedError(result)
    return result
