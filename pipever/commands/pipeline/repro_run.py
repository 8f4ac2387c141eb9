"""The schedule of ``pv repro``: decide each stage when everything it needs is done, run the
stale ones (up to ``jobs`` at once) through ``pipeline.runner``, record each success at once.

Everything that touches the repository (hashing, the cache, ``pv.lock``) happens on the calling
thread; worker threads only run commands and pass their output lines back as events.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from pipever.errors import ExecutorError, PvError, StageError
from pipever.commands.pipeline.repro_model import Options, Outcome, Reporter, ReproResult
from pipever.services.stage_record import StageRecorder
from pipever.paths import resolve_inside
from pipever.pipeline import dag
from pipever.pipeline.lockfile import LockEntry, Lockfile
from pipever.pipeline.runner import Event, Finished, Line, Runner
from pipever.pipeline.stage import Pipeline, Stage
from pipever.pipeline.status import Change, StageStatus
from pipever.context import RepoContext

_MISSING = (Change.DELETED, Change.NOT_IN_CACHE)


def only_missing(status: StageStatus, locked_deps: set[str]) -> bool:
    """Stale only because recorded data is missing (``--allow-missing`` skips such stages)."""
    if status.never_run or status.changed_cmd or status.always_changed or status.params:
        return False
    deps_ok = all(c is Change.DELETED and p in locked_deps for p, c in status.deps.items())
    return deps_ok and all(c in _MISSING for c in status.outs.values())


@contextlib.contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """SIGTERM/SIGHUP become SystemExit(128 + signal) while stages run, so the commands (in their
    own process groups, out of reach of the terminal) are stopped rather than orphaned."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class StageRunner(Protocol):
    """Where stage commands run: ``pipeline.runner.Runner`` (here, the default) or
    ``executor.dask_runner.DaskRunner`` (a Dask cluster). Called on the schedule's thread only."""

    def start(self, stage: str, commands: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> None: ...

    def next_event(self, timeout: float | None = None) -> Event | None: ...

    def stop_all(self) -> None: ...


class Execution:
    def __init__(self, repo: RepoContext, pipeline: Pipeline, graph: dag.StageGraph, lock: Lockfile,
                 order: tuple[str, ...], opts: Options, reporter: Reporter,
                 cancel: threading.Event | None = None, runner: StageRunner | None = None) -> None:
        self.repo = repo
        self.runner = runner  # None: stage commands run here
        self.cancel = cancel  # set by another thread: stop as Ctrl-C would (KeyboardInterrupt here)
        self.pipeline = pipeline
        self.order = order
        self.sched = dag.schedule(graph, order)
        self.opts = opts
        self.reporter = reporter
        self.recorder = StageRecorder(repo, pipeline, lock)
        self.result = ReproResult(outcomes={})

    # -- deciding -------------------------------------------------------------------------------
    def _verdict(self, stage: Stage, *, dry: bool = False) -> Outcome | None:
        """FROZEN/UNCHANGED/MISSING when the stage is not to run, None when it must run."""
        if stage.frozen:
            return Outcome.FROZEN
        if self.opts.force:
            return None
        entry = self.recorder.lock.get(stage.name)
        status = self.recorder.probe.status(stage, entry)
        if not status.stale:
            if entry is not None and not dry and not self._cache_outputs(status, entry):
                return None
            return Outcome.UNCHANGED
        if self.opts.allow_missing and entry is not None and only_missing(status, {d.path for d in entry.deps}):
            return Outcome.MISSING
        return None

    def _cache_outputs(self, status: StageStatus, entry: LockEntry) -> bool:
        """Store the outputs that are as recorded but missing from the cache (a cleared cache, an
        output that used to be ``cache: false``), as ``pv commit`` would: rerunning the stage would
        only make them again. False when one changed meanwhile: the stage must run."""
        from pipever.services.save import save_path

        locked = {o.path: o.oid for o in entry.outs}
        for path, change in status.outs.items():
            if change is Change.NOT_IN_CACHE and save_path(self.repo, path).oid != locked.get(path):
                return False
        return True

    def _settle(self, name: str) -> Outcome | None:
        """Decide ``name``; restore it from the run cache when possible. None: it must run."""
        stage = self.pipeline.stages[name]
        verdict = self._verdict(stage)
        if verdict is None:
            self.recorder.probe.check_params(stage)
        if verdict is None and self.opts.run_cache:
            hit = self.recorder.cached_run(stage)
            if hit is not None and self.recorder.restore(stage, *hit):
                verdict = Outcome.RESTORED
        if verdict is not None:
            self._finish(name, verdict)
        return verdict

    def _finish(self, name: str, outcome: Outcome, detail: str | None = None) -> None:
        self.result.outcomes[name] = outcome
        if outcome is Outcome.FAILED:
            self.result.failures[name] = detail or "failed"
        self.reporter.finished(name, outcome, detail)

    # -- dry run --------------------------------------------------------------------------------
    def dry(self) -> ReproResult:
        """What would run, as DVC's ``repro --dry`` lists it: the stages stale now (each judged
        on the workspace as it is), then, as MAY_RUN, the stages downstream of them that run only
        if an upstream output changes."""
        would: set[str] = set()
        later: list[str] = []
        for name in self.order:
            stage = self.pipeline.stages[name]
            verdict = Outcome.FROZEN if stage.frozen else self._verdict(stage, dry=True)
            if verdict is None:
                would.add(name)
                self._finish(name, Outcome.WOULD_RUN, "\n".join(stage.cmd))
            elif verdict is Outcome.UNCHANGED and self.sched.needs[name] & (would | set(later)):
                later.append(name)
            else:
                self._finish(name, verdict)
        for name in later:
            self._finish(name, Outcome.MAY_RUN)
        return self.result

    # -- running --------------------------------------------------------------------------------
    def run(self) -> ReproResult:
        with _terminate_as_exit():
            return self._run(self.runner if self.runner is not None else Runner())

    def _run(self, runner: StageRunner) -> ReproResult:
        self.reporter.planned(self.order)
        done: set[str] = set()
        failed: set[str] = set()
        waiting: list[str] = []  # decided to run, no free slot yet
        running: set[str] = set()

        def stopping() -> bool:
            return bool(failed) and not self.opts.keep_going

        try:
            while True:
                if self.cancel is not None and self.cancel.is_set():
                    raise KeyboardInterrupt
                progressed = True
                while progressed and not stopping():
                    progressed = False
                    for name in dag.ready(self.sched, done=done, running=running | set(waiting), failed=failed):
                        progressed = True
                        outcome = self._guarded(self._settle, name)
                        if outcome is Outcome.FAILED:
                            failed.add(name)
                            break
                        if outcome is None:
                            waiting.append(name)
                        else:
                            done.add(name)
                while waiting and len(running) < self.opts.jobs and not stopping():
                    name = waiting.pop(0)
                    if self._guarded(lambda n: self._start(runner, n), name) is Outcome.FAILED:
                        failed.add(name)
                    else:
                        running.add(name)
                if not running:
                    break
                event = runner.next_event(timeout=None if self.cancel is None else 0.2)
                if isinstance(event, Line):
                    self.reporter.output(event.stage, event.text, stderr=event.stderr)
                elif isinstance(event, Finished):
                    running.discard(event.stage)
                    if self._completed(event):
                        done.add(event.stage)
                    else:
                        failed.add(event.stage)
        except BaseException as exc:  # Ctrl-C, or an error that is not the stages' fault
            runner.stop_all()
            why = ("interrupted" if isinstance(exc, KeyboardInterrupt)
                   else "terminated" if isinstance(exc, SystemExit) else "stopped: pv failed")
            for name in running:
                self._finish(name, Outcome.FAILED, why)
            raise
        blocked = set(dag.blocked(self.sched, failed))
        for name in self.order:
            if name not in self.result.outcomes:
                self._finish(name, Outcome.BLOCKED if name in blocked else Outcome.STOPPED)
        self.result.outcomes = {n: self.result.outcomes[n] for n in self.order}
        return self.result

    def _guarded(self, step: Callable[[str], Outcome | None], name: str) -> Outcome | None:
        """Run a step for stage ``name``; a PvError (an unreadable params file, an output that
        cannot be cleared...) fails that stage only."""
        try:
            return step(name)
        except ExecutorError:  # the cluster's fault, not the stage's: the run stops
            raise
        except PvError as exc:
            self._finish(name, Outcome.FAILED, exc.message)
            return Outcome.FAILED

    def _start(self, runner: StageRunner, name: str) -> None:
        """Clear the outputs of ``name`` and start its commands."""
        stage = self.pipeline.stages[name]
        cwd = resolve_inside(self.repo.root, stage.wdir)  # never a wdir symlinked out of the work tree
        if not cwd.is_dir():  # else the command would be blamed ("command 'x' No such file or directory")
            raise StageError(f"working directory '{stage.wdir}' does not exist",
                             hint="create it, or fix the stage's wdir in pv.yaml")
        self.recorder.clear_outputs(stage)
        self.reporter.started(name, stage.cmd)
        from pipever.services.stage_env import command_env

        env = command_env(str(self.repo.root), name, self.opts.experiment)
        runner.start(name, stage.cmd, cwd=cwd, env=env)

    def _completed(self, event: Finished) -> bool:
        name = event.stage
        if event.returncode != 0:
            why = event.error or f"exited with code {event.returncode}"
            self._finish(name, Outcome.FAILED, why if event.command is None else f"command '{event.command}' {why}")
            return False
        from pipever.executor.dask_runner import RemoteFinished

        try:
            if isinstance(event, RemoteFinished):  # ran on a cluster: its outputs are in the cache
                self.recorder.record_remote(self.pipeline.stages[name], event.deps, event.outs,
                                            checkout=self.opts.download)
            else:
                self.recorder.record(self.pipeline.stages[name])
        except PvError as exc:
            self._finish(name, Outcome.FAILED, exc.message)
            return False
        self._finish(name, Outcome.RAN)
        return True
