"""``pv exp run``: run the pipeline with changed params without touching the user's branch or files.

A run is made of a ``RunSpec`` (the baseline commit HEAD, the workspace's ``pv.yaml`` and params
files with the ``-S`` overrides applied, the other files with uncommitted changes as in ``dvc exp
run``, a name). It runs like ``pv repro`` in a temporary worktree sharing the cache
(``exp_worktree``), then its result becomes a commit whose parent is the baseline — ``pv.yaml``,
params files, the changed files, ``pv.lock``, pointers, ``.gitignore`` files and the outputs that
are not cached (small metrics) — kept as ``refs/exps/<name>``. HEAD, the branch,
the index and the workspace stay as they were. ``--queue`` stores the spec instead; ``run_all``
runs the queue, up to ``jobs`` experiments at once. The repo lock is held throughout, so
``pv gc`` cannot remove what a running experiment is producing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from pipever.errors import ExperimentError, GitError, PvError
from pipever.experiments import names
from pipever.experiments.overrides import Override, apply_overrides, group_by_file, parse_override
from pipever.experiments.queue import QUEUE_DIR, Queue, RunSpec
from pipever.experiments.queue_state import QueueState
from pipever.commands.experiments.exp_worktree import remove_leftovers, temp_worktree
from pipever.commands.pipeline.repro import NULL_REPORTER, Outcome, Reporter, ReproResult
from pipever.paths import read_inside
from pipever.pipeline.params import is_params_file
from pipever.pipeline.stage import DEFAULT_PARAMS_FILE
from pipever.context import RepoContext

PIPELINE_FILE = "pv.yaml"
LOCK_FILE = "pv.lock"


@dataclass(frozen=True)
class ExpRunResult:
    name: str
    sha: str
    baseline: str
    repro: ReproResult


@dataclass(frozen=True)
class QueuedResult:
    spec: RunSpec


@dataclass
class RunAllResult:
    done: list[ExpRunResult] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # name -> why

    def error(self) -> ExperimentError | None:
        if not self.failed:
            return None
        shown = "; ".join(f"'{n}': {why}" for n, why in self.failed.items())
        return ExperimentError(f"{len(self.failed)} queued experiment(s) failed: {shown}",
                               hint="they were taken off the queue; fix the cause and queue them again")


def queue_of(repo: RepoContext) -> Queue:
    return Queue(repo.tmp_dir / QUEUE_DIR)


def require_commit(repo: RepoContext) -> str:
    """HEAD's sha; experiments need Git and a commit to start from."""
    if not repo.scm:
        raise ExperimentError("experiments need Git, but this repository has none", hint="use a Git repository")
    if not repo.git.has_commits():
        raise ExperimentError("experiments need a commit to start from", hint="commit your pipeline first")
    return repo.git.resolve("HEAD")


def name_taken(repo: RepoContext, name: str) -> bool:
    return repo.git.ref_sha(names.REF_PREFIX + name) is not None or any(
        e.name == name for e in queue_of(repo).entries())


def make_spec(repo: RepoContext, overrides: Sequence[str], name: str | None) -> RunSpec:
    """The run the user asks for, checked completely (syntax, files, keys, name) before anything runs."""
    parsed = [parse_override(o) for o in overrides]
    baseline = require_commit(repo)
    if name is not None:
        names.check_name(name)
        if name_taken(repo, name):
            raise ExperimentError(f"experiment '{name}' already exists",
                                  hint=f"choose another name with -n, or remove it first: pv exp remove {name}")
    else:
        name = names.generate_name(lambda n: name_taken(repo, n))
    return RunSpec(name, baseline, _files(repo, baseline, parsed), tuple(overrides), time.time())


def _files(repo: RepoContext, baseline: str, overrides: list[Override]) -> dict[str, str | None]:
    """``pv.yaml``, the params files and every file with uncommitted changes (code, pointers...)
    as in the workspace, overrides applied (None: deleted)."""
    from pipever.services import stages as st

    from pipever.services import pipeline_files as pf

    pipeline_files = pf.workspace_files(repo)
    if not pipeline_files:
        raise ExperimentError(f"there is no '{PIPELINE_FILE}': an experiment runs the pipeline",
                              hint="add stages with 'pv stage add' first")
    pipeline = st.load_pipeline(repo)
    used = [d.file for s in pipeline.stages.values() for d in s.params]
    rels = list(dict.fromkeys([*pipeline_files, *used, *pipeline.params_files, DEFAULT_PARAMS_FILE]))
    files: dict[str, str | None] = {}
    for rel in rels:
        text = _text(repo, rel)
        if text is not None or repo.git.tracked([rel]):
            files[rel] = text
    for rel in repo.git.changed_in_worktree(baseline):  # as 'dvc exp run': the workspace's changes
        if rel not in files:
            files[rel] = _text(repo, rel, changed=True)
    for file, group in group_by_file(overrides).items():
        text = files.get(file, _text(repo, file))
        if text is None or not is_params_file(file):
            raise ExperimentError(f"params file '{file}' does not exist (from -S '{group[0].text}')",
                                  hint="name an existing YAML or JSON params file, e.g. -S params.yaml:train.lr=0.1")
        files[file] = apply_overrides(text, file, group)
    return files


def _text(repo: RepoContext, rel: str, *, changed: bool = False) -> str | None:
    data = read_inside(repo.root, rel)
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        hint = ("commit it, or track it with 'pv add', before running an experiment" if changed
                else "params files and pv.yaml must be text")
        what = "has uncommitted changes and is not UTF-8 text" if changed else "is not UTF-8 text"
        raise ExperimentError(f"'{rel}' {what}", hint=hint) from None


def exp_run(repo: RepoContext, *, overrides: Sequence[str] = (), name: str | None = None, jobs: int | None = 1,
            queue: bool = False, reporter: Reporter = NULL_REPORTER,
            executor: str | None = None) -> ExpRunResult | QueuedResult:
    """Run one experiment now (its stages on the Dask cluster at ``executor`` if given, see
    ``repro``), or (``queue``) add it to the queue."""
    with repo.locked():
        remove_leftovers(repo)
        spec = make_spec(repo, overrides, name)
        if queue:
            return QueuedResult(queue_of(repo).add(spec))
        return execute(repo, spec, jobs=jobs, reporter=reporter, executor=executor)


def execute(repo: RepoContext, spec: RunSpec, *, jobs: int | None = 1, reporter: Reporter = NULL_REPORTER,
            cancel: threading.Event | None = None, executor: str | None = None) -> ExpRunResult:
    """Run ``spec`` in a temporary worktree and save it as ``refs/exps/<name>``."""
    from pipever.commands.data.checkout import checkout
    from pipever.commands.pipeline.repro import ReproFailedError, repro

    from pipever.pipeline.livestatus import live  # stage progress for 'pv ui'

    with live(repo.tmp_dir, reporter, command=repo.command, experiment=spec.name) as reporter, \
            temp_worktree(repo, spec.baseline, spec.files) as wt:
        checkout(wt, [])  # deps and the baseline's outputs, from the shared cache
        try:
            from pipever.services.stage_env import Experiment

            result = repro(wt, jobs=jobs, reporter=reporter, cancel=cancel, executor=executor, all_pipelines=True,
                           experiment=Experiment(spec.name, spec.baseline))
        except ReproFailedError as exc:
            raise ExperimentError(f"experiment '{spec.name}' failed: {exc.message}",
                                  hint="nothing was saved; fix the stage and run the experiment again") from exc
        paths = _result_paths(wt, spec)
        wt.git.run("reset", "-q")  # only what pv records: not what a stage staged itself (dvclive's 'dvc init')
        wt.git.run("add", "--all", "--", *[":(literal)" + p for p in paths])
        tree = wt.git.run("write-tree").decode().strip()
    sha = repo.git.commit_tree(tree, spec.baseline, _message(spec))
    try:
        repo.git.create_ref(names.ref_of(spec.name), sha, "pv exp run")
    except GitError as exc:
        raise ExperimentError(f"experiment '{spec.name}' already exists",
                              hint="run it again with another name (-n)") from exc
    return ExpRunResult(spec.name, sha, spec.baseline, result)


def _result_paths(wt: RepoContext, spec: RunSpec) -> list[str]:
    """What the experiment's commit records: pv.yaml, params, pv.lock, pointers, the
    .gitignore files next to outputs, and the outputs that are not cached (Git keeps those)."""
    from pipever.data import gitignore
    from pipever.services import stages as st
    from pipever.services import tracked as trk

    from pipever.services import pipeline_files as pf
    from pipever.pipeline import multi

    pipeline = st.load_pipeline(wt)
    files = pf.workspace_files(wt)
    paths = {PIPELINE_FILE, LOCK_FILE, *files, *map(multi.lock_file_of, files), *spec.files, *trk.pointer_files(wt)}
    for stage in pipeline.stages.values():
        for out in stage.all_outs:
            paths.add(gitignore.gitignore_rel(out.path) if out.cache else out.path)
    present = {p for p in paths if (wt.root / p).exists()}
    return sorted(present | set(wt.git.tracked(sorted(paths - present))))


def _message(spec: RunSpec) -> str:
    lines = [f"pv exp run: {spec.name}", ""] + [f"-S {o}" for o in spec.overrides]
    return "\n".join(lines).rstrip("\n") + "\n"


class _Skipped(Exception):
    """A queued run removed ('pv queue remove') before its turn came."""


class _Logged:
    """Passes stage events on and writes them to the run's log (``pv queue logs NAME``)."""

    def __init__(self, inner: Reporter, state: QueueState, name: str) -> None:
        self.inner, self.state, self.name = inner, state, name

    def planned(self, names: tuple[str, ...]) -> None:
        self.inner.planned(names)

    def started(self, name: str, commands: tuple[str, ...]) -> None:
        self.state.log(self.name, f"Running stage '{name}':" + "".join(f"\n> {c}" for c in commands))
        self.inner.started(name, commands)

    def output(self, name: str, text: str, *, stderr: bool) -> None:
        self.state.log(self.name, f"[{name}] {text}")
        self.inner.output(name, text, stderr=stderr)

    def finished(self, name: str, outcome: Outcome, detail: str | None) -> None:
        self.state.log(self.name, f"Stage '{name}': {outcome.value}" + (f" ({detail})" if detail else ""))
        self.inner.finished(name, outcome, detail)


def queue_state_of(repo: RepoContext) -> QueueState:
    return QueueState(repo.tmp_dir / QUEUE_DIR)


def run_all(repo: RepoContext, *, jobs: int = 1, reporter_for: Callable[[str], Reporter] = lambda _n: NULL_REPORTER,
            executor: str | None = None) -> RunAllResult:
    """Run every queued experiment, oldest first, up to ``jobs`` at once (``pv queue start``; with
    ``executor``, each one's stages run on that Dask cluster). Each one leaves the queue once it has
    run, successfully or not; Ctrl-C leaves the unfinished ones queued. ``pv queue kill NAME``
    (from another process) stops one run as Ctrl-C would; it fails as 'killed'."""
    result = RunAllResult()
    with repo.locked():
        remove_leftovers(repo)
        q = queue_of(repo)
        state = queue_state_of(repo)
        specs = q.entries()
        stopping = threading.Event()
        cancels = {s.id: threading.Event() for s in specs}
        started: set[str] = set()

        def one(spec: RunSpec) -> ExpRunResult:
            if stopping.is_set() or not q.has(spec.id):
                raise _Skipped
            state.started(spec.name)
            started.add(spec.id)
            try:
                return execute(repo, spec, reporter=_Logged(reporter_for(spec.name), state, spec.name),
                               cancel=cancels[spec.id], executor=executor)
            except KeyboardInterrupt:
                if state.kill_requested(spec.name) and not stopping.is_set():
                    raise ExperimentError(f"experiment '{spec.name}' was killed ('pv queue kill')",
                                          hint="nothing was saved; queue it again to rerun it") from None
                state.ended(spec.name, "interrupted", "stopped with the queue; still queued")
                raise

        def settle(spec: RunSpec, fut: Future[ExpRunResult]) -> None:
            try:
                done = fut.result()
            except _Skipped:
                return
            except PvError as exc:
                result.failed[spec.name] = exc.message
                state.ended(spec.name, "killed" if state.kill_requested(spec.name) else "failed", exc.message)
            else:
                result.done.append(done)
                state.ended(spec.name, "success", f"refs/exps/{done.name} ({done.sha[:7]})")
            q.remove(spec.id)

        pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="pv-exp")
        futures: dict[Future[ExpRunResult], RunSpec] = {pool.submit(one, s): s for s in specs}
        try:
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for fut in finished:
                    settle(futures[fut], fut)
                for spec in specs:
                    if spec.id in started and state.kill_requested(spec.name):
                        cancels[spec.id].set()
        except BaseException:
            stopping.set()
            for cancel in cancels.values():  # the running experiments stop as on Ctrl-C and remove their worktrees
                cancel.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
    return result
