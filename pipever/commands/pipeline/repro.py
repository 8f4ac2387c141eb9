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
import dataclasses
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pipever.commands.pipeline.repro_model import (
    NULL_REPORTER,
    RECORDED,
    NullReporter,
    Options,
    Outcome,
    Reporter,
    ReproFailedError,
    ReproResult,
)
from pipever.context import RepoContext
from pipever.services.stage_env import Experiment

if TYPE_CHECKING:
    from pipever.executor.dask_runner import Connection
    from pipever.executor.settings import ExecutorSettings

__all__ = ["NULL_REPORTER", "RECORDED", "NullReporter", "Options", "Outcome", "Reporter", "ReproFailedError",
           "ReproResult", "repro"]


def repro(
    repo: RepoContext, targets: Sequence[str] = (), *, force: bool = False, single: bool = False,
    downstream: bool = False, dry: bool = False, jobs: int | None = 1, keep_going: bool = False,
    pull: bool = False, allow_missing: bool = False, run_cache: bool = True,
    all_pipelines: bool = False, recursive: bool = False, experiment: Experiment | None = None,
    reporter: Reporter = NULL_REPORTER, cancel: threading.Event | None = None,
    executor: str | None = None, download: bool = True,
) -> ReproResult:
    """Reproduce ``targets`` (stage or group names, ``path/pv.yaml:NAME`` or output paths; by
    DVC's rules, see ``stages.select_stages``: default the current folder's ``pv.yaml`` and the
    stages upstream of it, ``all_pipelines`` every pipeline file, ``recursive`` the pipeline
    files under the target folders); ``experiment`` names the experiment the stages run for (their
    environment). ReproFailedError (with the partial result) when a stage fails; KeyboardInterrupt
    passes through after the running commands are stopped (finished stages stay recorded).
    ``cancel``, set from another thread, stops the run the same way (``pv exp run --run-all -j``).
    ``executor``: where stages run (``local``, a Dask scheduler address; None: ``executor.address``
    of the local/global config, else local); ``jobs`` None (not given) or 0 on a cluster means no cap
    (the scheduler queues what its workers cannot take yet); here None means 1, 0 one per CPU.
    ``download`` False leaves outputs made on a cluster on the remote."""
    from pipever.executor import settings as xs

    where = xs.resolve(repo.config, executor)
    connection = None
    if not where.is_local and not dry:  # connecting overlaps loading the pipeline and deciding
        from pipever.executor.dask_runner import Connection

        connection = Connection(where.address)
    try:
        return _repro(repo, targets, where, connection, force=force, single=single, downstream=downstream,
                      dry=dry, jobs=jobs, keep_going=keep_going, pull=pull, allow_missing=allow_missing,
                      run_cache=run_cache, reporter=reporter, cancel=cancel, download=download,
                      all_pipelines=all_pipelines, recursive=recursive, experiment=experiment)
    finally:
        if connection is not None:
            connection.abandon()


def _repro(
    repo: RepoContext, targets: Sequence[str], where: ExecutorSettings, connection: Connection | None, *,
    force: bool, single: bool, downstream: bool, dry: bool, jobs: int | None, keep_going: bool, pull: bool,
    allow_missing: bool, run_cache: bool, reporter: Reporter, cancel: threading.Event | None, download: bool,
    all_pipelines: bool, recursive: bool, experiment: Experiment | None,
) -> ReproResult:
    from pipever.services import stages as st
    from pipever.pipeline import dag

    pipeline = st.load_pipeline(repo)
    graph = dag.build_graph(pipeline)
    chosen = st.select_stages(repo, pipeline, targets, all_pipelines=all_pipelines, recursive=recursive)
    order = dag.plan(graph, chosen, downstream=downstream, single=single) if chosen else ()
    if pull and not dry:
        from pipever.commands.pipeline.repro_pull import pull_missing

        pull_missing(repo, pipeline, order)
    local_jobs = 1 if jobs is None else jobs or os.cpu_count() or 1
    opts = Options(force=force, jobs=max(1, local_jobs), keep_going=keep_going, allow_missing=allow_missing,
                   run_cache=run_cache and not force, download=download or where.is_local, experiment=experiment)
    from pipever.commands.pipeline.repro_run import Execution
    from pipever.pipeline.livestatus import live  # stage progress for 'pv ui'

    with repo.locked(), (contextlib.nullcontext(reporter) if dry else live(repo.tmp_dir, reporter, command=repo.command)) as reporter:
        from pipever.services.lockio import read_lock

        lock = read_lock(repo)
        if not allow_missing:
            from pipever.services.stage_state import Probe

            dag.check_deps(pipeline, graph, exists=Probe(repo).exists, stages=order)
        runner = None
        if not where.is_local and not dry:
            from pipever.executor.dask_runner import DaskRunner

            runner = DaskRunner(repo, pipeline, where, lock=lock, download=opts.download, connection=connection)
            if not jobs:  # the scheduler queues what its workers cannot take yet
                opts = dataclasses.replace(opts, jobs=len(order))
        run = Execution(repo, pipeline, graph, lock, order, opts, reporter, cancel, runner)
        from pipever.services.stage_env import had_dvc_dir, undo_dvc_init

        had_dvc = had_dvc_dir(repo)
        try:
            result = run.dry() if dry else run.run()
        finally:
            repo.state.flush()
            if runner is not None:
                runner.close()
            note = None if dry else undo_dvc_init(repo, had_dvc)
        result.warnings = [*where.warnings, *(runner.warnings if runner is not None else [])]
        if note:
            result.warnings.append(note)
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
