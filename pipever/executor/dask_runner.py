"""The driver side of ``--executor ADDRESS``: stages submitted to a Dask scheduler as tasks.

``DaskRunner`` speaks ``pipeline.runner.Runner``'s protocol (``start``, ``next_event``,
``stop_all``), so ``repro_run.Execution`` schedules stages the same way for both; it is called on
that one thread, which keeps every repository write (the cache, ``pv.lock``) here. ``start``
snapshots the Git-tracked files (once per run), stores the stage's deps and persistent outputs in
the cache, pushes what the default remote lacks, and submits ``worker.run_task``. When a task
returns, its outputs are fetched into the cache (unless ``download`` is off) and a
``RemoteFinished`` carries their oids to ``Execution``, which records and checks them out.

Lost workers are the scheduler's business: its ``allowed_failures`` (``executor.retries``) says
how often a task whose worker died is run again. Ctrl-C sets a ``distributed.Event`` the running
tasks poll; they kill their commands' process groups and return.
"""

from __future__ import annotations

import collections
import os
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipever.errors import ExecutorError, PvError, StageError
from pipever.executor import objects as xo
from pipever.executor.settings import ExecutorSettings
from pipever.executor.snapshot import snapshot
from pipever.executor.task import OutSpec, RemoteRef, StageTask, TaskResult, TreePart
from pipever.objects.odb import ObjectRef
from pipever.pipeline.lockfile import LockedPath, Lockfile
from pipever.pipeline.runner import GRACE_S, Event, Finished, Line
from pipever.pipeline.stage import Pipeline, Stage
from pipever.context import RepoContext

CONNECT_TIMEOUT_ENV = "PV_EXECUTOR_CONNECT_TIMEOUT"
CONNECT_TIMEOUT_S = 10.0
WAIT_S = 0.5
POLL_S = 0.02
FORWARDED_ENV = ("PV_", "DVC_")
NOT_FORWARDED = {"PV_ROOT", "DVC_ROOT", "PV_STAGE", "DVC_STAGE", "PV_CACHE_DIR", "PV_REMOTE"}
NO_CREDENTIALS = {"access_key_id", "key", "username", "user"}  # besides the secrets


@dataclass(frozen=True)
class RemoteFinished(Finished):
    """A stage that ran on the cluster: its deps as submitted, its outputs as the worker made them
    (in the cache unless the run does not download)."""

    deps: tuple[LockedPath, ...] = ()
    outs: tuple[LockedPath, ...] = ()
    result: TaskResult | None = field(default=None, compare=False)


def connect(address: str) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address``; ExecutorError naming it when the
    extra is missing or the scheduler cannot be reached."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise ExecutorError("running stages on a Dask cluster needs the 'dask' extra", address=address,
                            hint="run pip install 'pipever[dask]' (here and on the workers)") from exc
    timeout = float(os.environ.get(CONNECT_TIMEOUT_ENV) or CONNECT_TIMEOUT_S)
    try:
        return Client(address, timeout=timeout, set_as_default=False)  # type: ignore[no-untyped-call]  # untyped in distributed
    except (OSError, TimeoutError, ValueError) as exc:
        raise ExecutorError(f"cannot reach the Dask scheduler at '{address}': {exc}", address=address,
                            hint="start it ('dask scheduler', then 'dask worker ADDRESS'), or fix --executor "
                                 "or executor.address ('pv config --local executor.address')") from exc


class Connection:
    """Connecting to the scheduler (importing ``distributed`` takes about a second) in a thread,
    started as soon as a run knows it may need the cluster, so it overlaps loading the pipeline
    and deciding what is stale. A run with nothing to do abandons it (the client is closed when it
    arrives) and never waits for it."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._lock = threading.Lock()
        self._client: Any = None
        self._error: BaseException | None = None
        self._abandoned = False
        self._thread = threading.Thread(target=self._connect, name="pv-dask-connect", daemon=True)
        self._thread.start()

    def _connect(self) -> None:
        try:
            client = connect(self.address)
        except BaseException as exc:  # noqa: BLE001 - raised where the client is needed
            self._error = exc
            return
        with self._lock:
            if not self._abandoned:
                self._client = client
                return
        _close(client)

    def get(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._client

    def abandon(self) -> None:
        """Close the client now, or when it arrives."""
        with self._lock:
            self._abandoned = True
            client, self._client = self._client, None
        if client is not None:
            _close(client)


def _close(client: Any) -> None:
    try:
        client.close(timeout=5)
    except Exception:  # noqa: BLE001 - closing a lost connection
        pass


def _wait(futures: list[Any], timeout: float, *, first: bool) -> None:
    """Until one (``first``) or all of ``futures`` are done, at most ``timeout`` seconds
    (``distributed.wait`` would need a default client)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [f.done() for f in futures]
        if (any(done) if first else all(done)):
            return
        time.sleep(POLL_S)


def _set_allowed_failures(n: int, dask_scheduler: Any = None) -> None:
    dask_scheduler.allowed_failures = n


def _task_remote(remote: Any, forward: bool) -> RemoteRef:
    from pipever.config import is_secret

    opts = dict(remote.options)
    if not forward:
        opts = {k: v for k, v in opts.items() if not is_secret(str(k)) and str(k).lower() not in NO_CREDENTIALS}
    return RemoteRef(remote.name, remote.spec, opts)


class DaskRunner:
    def __init__(self, repo: RepoContext, pipeline: Pipeline, settings: ExecutorSettings, *, lock: Lockfile,
                 download: bool = True, connection: Connection | None = None) -> None:
        from pipever.services import cloud

        self.repo = repo
        self.pipeline = pipeline
        self.settings = settings
        self.download = download
        self.lock = lock  # as the run started: outputs of stages run earlier without download
        self.remote = cloud.open_remote(repo, None)
        self.task_remote = _task_remote(self.remote, settings.forward_credentials)
        self.warnings: list[str] = []
        self.stop_name = f"pv-stop-{uuid.uuid4().hex}"
        self._connection = connection
        self._client: Any = None  # waited for when the first stage is submitted
        self._stop_event: Any = None
        self._tree: ObjectRef | None = None
        self._tree_paths: dict[str, str] = {}  # path -> oid of the files in the tree
        self._pushed: set[ObjectRef] = set()
        self._futures: dict[str, Any] = {}
        self._deps: dict[str, tuple[LockedPath, ...]] = {}
        self._events: collections.deque[Event] = collections.deque()
        self.produced: dict[str, LockedPath] = {}  # outputs returned during this run
        self.results: dict[str, TaskResult] = {}
        self.submitted: dict[str, float] = {}

    @property
    def client(self) -> Any:
        """The scheduler's client, connected on first use (a run with nothing to do never connects)."""
        if self._client is None:
            if self._connection is None:
                self._connection = Connection(self.settings.address)
            client = self._connection.get()
            try:
                client.run_on_scheduler(_set_allowed_failures, self.settings.retries)
            except Exception as exc:  # noqa: BLE001 - e.g. a scheduler that refuses pickled functions
                self.warnings.append(f"could not set the scheduler's allowed-failures to {self.settings.retries}: {exc}")
            from distributed import Event as DaskEvent

            self._stop_event = DaskEvent(self.stop_name, client=client)  # type: ignore[no-untyped-call]  # untyped in distributed
            self._client = client
        return self._client

    @property
    def running(self) -> set[str]:
        return set(self._futures)

    # -- submitting -----------------------------------------------------------------------------
    def start(self, stage: str, commands: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> None:
        st = self.pipeline.stages[stage]
        tree = self._snapshot()
        deps = self._stage_deps(st)
        extra = [TreePart(d.path, str(d.oid), d.is_dir, isexec) for d, isexec in deps
                 if self._tree_paths.get(d.path) != str(d.oid)]
        extra += self._persistent_outs(st)
        refs = {tree} | {xo.ref(p.oid, is_dir=p.is_dir) for p in extra}
        todo = refs - self._pushed
        if todo:
            xo.push(self.remote, self.repo.odb, todo)
            self._pushed |= todo
        task = StageTask(
            stage=stage, commands=tuple(commands), wdir=st.wdir,
            outs=tuple(OutSpec(o.path, o.persist) for o in st.all_outs), tree=str(tree.oid), extra=tuple(extra),
            remote=self.task_remote, stop_event=self.stop_name,
            env={k: v for k, v in env.items() if k.startswith(FORWARDED_ENV) and k not in NOT_FORWARDED},
        )
        from pipever.executor.worker import run_task

        key = f"pv-{stage}-{uuid.uuid4().hex[:12]}"
        self._futures[stage] = self.client.submit(run_task, task, key=key, pure=False)
        self._deps[stage] = tuple(d for d, _ in deps)
        self.submitted[stage] = time.monotonic()

    def _snapshot(self) -> ObjectRef:
        if self._tree is None:
            self._tree = snapshot(self.repo)
            self._tree_paths = {e.path: str(e.oid) for e in self.repo.odb.read_manifest(self._tree.oid).entries}
        return self._tree

    def _stage_deps(self, stage: Stage) -> list[tuple[LockedPath, bool]]:
        """Each dep as pv.lock records it, its object in the cache: from the work tree, else (not
        downloaded) from an output this run or an earlier one produced on the cluster."""
        from pipever.services.save import save_path

        found = []
        for rel in stage.deps:
            if os.path.lexists(self.repo.root / rel):
                saved = save_path(self.repo, rel, store=True, link=False)
                found.append((LockedPath(rel, saved.oid, saved.size, saved.nfiles), saved.isexec))
                continue
            known = self.produced.get(rel) or self._locked_out(rel)
            if known is None:
                raise StageError(f"dependency '{rel}' of stage '{stage.name}' does not exist",
                                 hint="create it, or remove it from the stage's deps")
            found.append((known, False))
        return found

    def _locked_out(self, rel: str) -> LockedPath | None:
        owner = self.pipeline.out_owner(rel)
        entry = self.lock.get(owner) if owner else None
        return next((o for o in entry.outs if o.path == rel), None) if entry else None

    def _persistent_outs(self, stage: Stage) -> list[TreePart]:
        from pipever.services.save import save_path

        parts = []
        for out in stage.all_outs:
            if out.persist and os.path.lexists(self.repo.root / out.path):
                saved = save_path(self.repo, out.path, store=True, link=False)
                parts.append(TreePart(out.path, str(saved.oid), saved.nfiles is not None, saved.isexec))
        return parts

    # -- results --------------------------------------------------------------------------------
    def next_event(self, timeout: float | None = None) -> Event | None:
        if self._events:
            return self._events.popleft()
        if not self._futures:
            return None
        _wait(list(self._futures.values()), min(timeout or WAIT_S, WAIT_S), first=True)
        for stage, fut in list(self._futures.items()):
            if fut.done():
                del self._futures[stage]
                self._collect(stage, fut)
        return self._events.popleft() if self._events else None

    def _collect(self, stage: str, fut: Any) -> None:
        if fut.status == "cancelled":
            self._events.append(Finished(stage, 130, None, "cancelled on the cluster"))
            return
        if fut.status != "finished":
            exc = fut.exception()
            why = (f"its worker died {self.settings.retries + 1} time(s) (executor.retries is {self.settings.retries})"
                   if type(exc).__name__ == "KilledWorker" else f"failed on the cluster: {type(exc).__name__}: {exc}")
            self._events.append(Finished(stage, 1, None, why))
            return
        res: TaskResult = fut.result()
        self.results[stage] = res
        for line in res.tail:
            self._events.append(Line(stage, line, False))
        if not res.ok:
            why = res.error or f"exited with code {res.returncode}"
            where = f" on {res.host}" if res.host else ""
            self._events.append(Finished(stage, res.returncode, res.command, f"{why}{where}"))
            return
        outs = tuple(LockedPath(o.path, xo.ref(o.oid).oid, o.size, o.nfiles) for o in res.outs)
        if self.download:
            try:
                xo.fetch(self.remote, self.repo.odb, [ObjectRef(o.oid, o.is_dir) for o in outs])
            except PvError as exc:
                self._events.append(Finished(stage, 1, None, f"its outputs could not be fetched: {exc.message}"))
                return
        for o in outs:
            self.produced[o.path] = o
        self._events.append(RemoteFinished(stage, 0, deps=self._deps.pop(stage, ()), outs=outs, result=res))

    # -- stopping -------------------------------------------------------------------------------
    def stop_all(self, grace: float = GRACE_S) -> None:
        """Tell the running tasks to kill their commands, wait for them a little, cancel the rest."""
        futures = list(self._futures.values())
        if not futures or self._stop_event is None:
            return
        try:
            self._stop_event.set()
            _wait(futures, grace + 3 * WAIT_S + 1, first=False)
            self.client.cancel(futures)
        except Exception:  # noqa: BLE001 - stopping must not hide why the run stopped
            pass
        self._futures.clear()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.abandon()
        self._client = None
