"""What a Dask worker runs for one stage: ``run_task(task) -> TaskResult``.

In a scratch directory of its own (under the worker's local directory), it builds the stage's
file tree from the remote by oid (every object verified, kept in a per-worker cache so the next
task fetches only what changed), runs the commands with the stage's environment in their own
process group (under ``stage_guard``, so they die with the worker), hashes the outputs, pushes
them, and returns their oids. A failing command is a result with its exit code and the tail of
its output, never an exception; a ``distributed.Event`` named by the task stops it (Ctrl-C on the
driver). The scratch directory is removed afterwards.
"""

from __future__ import annotations

import collections
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

from pipever.errors import PvError, StageError
from pipever.executor import objects as xo
from pipever.executor.task import TAIL_LINES, OutResult, StageTask, TaskResult
from pipever.fsutil import is_executable
from pipever.objects.manifest import Entry, Manifest
from pipever.objects.odb import ObjectDB, ObjectRef
from pipever.paths import check_relpath
from pipever.pipeline.runner import GRACE_S, guarded, shell
from pipever.remote.local import make_remote

POLL_S = 0.25  # how often a running command checks the stop event


def _local_dir() -> Path:
    try:
        from distributed import get_worker

        return Path(get_worker().local_directory)
    except (ImportError, ValueError):  # not on a worker (tests of this module)
        return Path(tempfile.gettempdir())


def _stop_checker(name: str | None) -> Any:
    """A callable telling whether the driver asked to stop (False when there is no event)."""
    if not name:
        return lambda: False
    try:
        from distributed import Event

        event = Event(name)  # type: ignore[no-untyped-call]  # distributed is not fully typed
    except (ImportError, ValueError):
        return lambda: False

    def is_set() -> bool:
        try:
            return bool(event.is_set())  # type: ignore[no-untyped-call]  # distributed is not fully typed
        except Exception:  # noqa: BLE001 - a lost scheduler connection is no stop request
            return False

    return is_set


def run_task(task: StageTask) -> TaskResult:
    """Run one stage; see the module docstring."""
    start = time.monotonic()
    base = _local_dir() / "pipever"
    host = _host()
    cache = ObjectDB(base / "cache")
    (base / "scratch").mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"{_safe(task.stage)}-", dir=base / "scratch"))
    work = scratch / "work"
    try:
        remote = make_remote(task.remote.name, task.remote.spec, task.remote.options)
        try:
            _build_tree(task, remote, cache, work)
        except (PvError, OSError) as exc:
            return TaskResult(task.stage, 1, error=f"cannot build the stage's files on {host}: {_why(exc)}",
                              host=host, seconds=time.monotonic() - start)
        t0 = time.monotonic()
        rc, failed, tail, why = _run_commands(task, work)
        ran = time.monotonic() - t0
        if rc != 0 or why is not None:
            return TaskResult(task.stage, rc or 1, failed, why, tail=tail, host=host,
                              seconds=time.monotonic() - start, command_seconds=ran)
        try:
            outs, refs = _hash_outs(task, cache, work)
            xo.push(remote, cache, refs)
        except (PvError, OSError) as exc:
            return TaskResult(task.stage, 1, error=_why(exc), tail=tail, host=host,
                              seconds=time.monotonic() - start, command_seconds=ran)
        return TaskResult(task.stage, 0, outs=outs, tail=tail, host=host, seconds=time.monotonic() - start,
                          command_seconds=ran)
    finally:
        _rmtree(scratch)


def _why(exc: BaseException) -> str:
    if isinstance(exc, PvError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


def _host() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return socket.gethostname()


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:60]


# -- the tree -------------------------------------------------------------------------------------
def _build_tree(task: StageTask, remote: Any, cache: ObjectDB, work: Path) -> None:
    tree = xo.ref(task.tree, is_dir=True)
    parts = [(p, xo.ref(p.oid, is_dir=p.is_dir)) for p in task.extra]
    xo.fetch(remote, cache, [tree, *(r for _, r in parts)])
    work.mkdir(parents=True)
    _place_dir(cache, cache.read_manifest(tree.oid), work)
    for part, r in parts:
        dest = work / check_relpath(part.path)
        if os.path.lexists(dest):
            _rmtree(dest) if dest.is_dir() and not dest.is_symlink() else dest.unlink()
        if r.is_dir:
            dest.mkdir(parents=True, exist_ok=True)
            _place_dir(cache, cache.read_manifest(r.oid), dest)
        else:
            _place_file(cache, r, dest, part.isexec)


def _place_dir(cache: ObjectDB, manifest: Manifest, dest: Path) -> None:
    for e in manifest.entries:  # paths checked when the manifest was read
        _place_file(cache, ObjectRef(e.oid, False), dest / e.path, e.isexec)


def _place_file(cache: ObjectDB, r: ObjectRef, dest: Path, isexec: bool) -> None:
    """A writable copy (the command may change it; the cache object must stay intact)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cache.path(r.oid), dest)
    os.chmod(dest, 0o755 if isexec else 0o644)


# -- the commands ---------------------------------------------------------------------------------
def _run_commands(task: StageTask, work: Path) -> tuple[int, str | None, tuple[str, ...], str | None]:
    """(exit code, failing command, output tail, why it did not run)."""
    cwd = work / check_relpath(task.wdir) if task.wdir not in ("", ".") else work
    if not cwd.is_dir():
        return 1, None, (), f"working directory '{task.wdir}' does not exist"
    for out in task.outs:  # as locally: outputs are cleared (persistent ones came with the tree)
        if not out.persist:
            target = work / check_relpath(out.path)
            if os.path.lexists(target):
                _rmtree(target) if target.is_dir() and not target.is_symlink() else target.unlink()
    env = {**os.environ, **task.env, "PV_ROOT": str(work), "DVC_ROOT": str(work),
           "PV_STAGE": task.stage, "DVC_STAGE": task.stage}
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    stopped = _stop_checker(task.stop_event)
    for cmd in task.commands:
        if stopped():
            return 130, cmd, tuple(tail), "stopped (interrupted on the driver)"
        lifeline, keep = os.pipe()
        try:
            proc = subprocess.Popen([*guarded(lifeline), *shell(env), cmd], cwd=cwd, env=env,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    start_new_session=True, pass_fds=(lifeline,))
        except OSError as exc:
            os.close(keep)
            return 127, cmd, tuple(tail), f"could not start: {exc.strerror or exc}"
        finally:
            os.close(lifeline)
        assert proc.stdout is not None
        reader = threading.Thread(target=_pump, args=(proc.stdout, tail), daemon=True)
        reader.start()
        interrupted = False
        while True:
            try:
                rc = proc.wait(timeout=POLL_S)
                break
            except subprocess.TimeoutExpired:
                if not interrupted and stopped():
                    interrupted = True
                    _stop(proc)
        reader.join(timeout=5)
        os.close(keep)
        if interrupted:
            return 130, cmd, tuple(tail), "stopped (interrupted on the driver)"
        if rc != 0:
            return rc, cmd, tuple(tail), None
    return 0, None, tuple(tail), None


def _pump(stream: IO[bytes], tail: collections.deque[str]) -> None:
    with stream:
        for raw in iter(stream.readline, b""):
            tail.append(raw.decode("utf-8", errors="replace").rstrip("\r\n"))


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT to the command's process group, SIGKILL after the grace period."""
    for sig in (signal.SIGINT, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=GRACE_S)
            return


# -- the outputs ----------------------------------------------------------------------------------
def _hash_outs(task: StageTask, cache: ObjectDB, work: Path) -> tuple[tuple[OutResult, ...], list[ObjectRef]]:
    outs = []
    refs = []
    for out in task.outs:
        full = work / check_relpath(out.path)
        if not os.path.lexists(full):
            raise StageError(f"output '{out.path}' of stage '{task.stage}' was not created",
                          hint="make the command write it, or remove it from the stage's outs")
        if full.is_dir():
            entries = []
            for dirpath, dirnames, filenames in os.walk(full):
                dirnames.sort()
                for name in filenames:
                    src = Path(dirpath) / name
                    st = src.stat()
                    rel = src.relative_to(full).as_posix()
                    oid = cache.add_file_hashing(src, hashed_stat=st, display=f"{out.path}/{rel}")
                    entries.append(Entry(rel, oid, st.st_size, is_executable(st.st_mode)))
            manifest = Manifest.build(entries)
            oid = cache.add_manifest(manifest)
            outs.append(OutResult(out.path, str(oid), manifest.size, manifest.nfiles))
            refs.append(ObjectRef(oid, True))
        else:
            st = full.stat()
            oid = cache.add_file_hashing(full, hashed_stat=st, display=out.path)
            outs.append(OutResult(out.path, str(oid), st.st_size))
            refs.append(ObjectRef(oid, False))
    return tuple(outs), refs


def _rmtree(path: Path) -> None:
    def onerror(func: Any, p: str, _exc: Any) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(p), 0o755)
            os.chmod(p, 0o755)
            func(p)

    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, onerror=onerror)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
