"""Running stage commands: each stage in a worker thread, each command by the shell in its own
process group, output lines and completions delivered as events on one queue.

The caller (``commands.pipeline.repro_run``) owns the schedule and reads events on its own thread, so everything
that touches the repository stays on that thread. ``stop_all`` interrupts the running commands'
whole process groups (SIGINT, then SIGKILL after a grace period), which is what Ctrl-C needs:
the commands run in their own sessions, so the terminal's SIGINT reaches only pv. Each command
runs under ``stage_guard``, which kills its group if pv dies without stopping it (kill -9, OOM).
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

POSIX_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash"})
GRACE_S = 2.0


@dataclass(frozen=True)
class Line:
    stage: str
    text: str  # without the line break
    stderr: bool


@dataclass(frozen=True)
class Finished:
    stage: str
    returncode: int  # of the first failing command, 0 when all succeeded
    command: str | None = None  # the failing command
    error: str | None = None  # the command could not be started


Event = Line | Finished


def shell(env: Mapping[str, str]) -> list[str]:
    """The shell that runs a cmd: the user's ``$SHELL`` when it is a POSIX shell (as DVC does),
    else ``/bin/sh``."""
    user = env.get("SHELL", "")
    if user and os.path.basename(user) in POSIX_SHELLS and os.access(user, os.X_OK):
        return [user, "-c"]
    return ["/bin/sh", "-c"]


GUARD = Path(__file__).with_name("stage_guard.py")


def guarded(lifeline: int) -> list[str]:
    """The argv prefix that runs a command under ``stage_guard``: it kills the command's process
    group when pv dies (its copy of ``lifeline``'s other end closes), SIGKILL included. Empty
    where there is no interpreter to run it with (an embedded Python): the command runs bare."""
    if not sys.executable or not os.access(sys.executable, os.X_OK):
        return []
    return [sys.executable, "-I", "-S", str(GUARD), str(lifeline)]


class Runner:
    def __init__(self) -> None:
        self.events: queue.Queue[Event] = queue.Queue()
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    @property
    def running(self) -> set[str]:
        with self._lock:
            return {name for name, t in self._threads.items() if t.is_alive()}

    def start(self, stage: str, commands: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> None:
        """Run ``commands`` in order (stopping at the first failure) on a new thread."""
        t = threading.Thread(target=self._work, args=(stage, tuple(commands), cwd, dict(env)),
                             name=f"pv-stage-{stage}", daemon=True)
        with self._lock:
            self._threads[stage] = t
        t.start()

    def next_event(self, timeout: float | None = None) -> Event | None:
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None

    def _work(self, stage: str, commands: tuple[str, ...], cwd: Path, env: dict[str, str]) -> None:
        argv0 = shell(env)
        for cmd in commands:
            with self._lock:
                if self._stopping.is_set():
                    self.events.put(Finished(stage, 130, cmd, "interrupted"))
                    return
                lifeline, keep = os.pipe()
                try:
                    proc = subprocess.Popen(
                        [*guarded(lifeline), *argv0, cmd], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                        pass_fds=(lifeline,),
                    )
                except OSError as exc:
                    os.close(keep)
                    self.events.put(Finished(stage, 127, cmd, f"{exc.strerror or exc}"))
                    return
                finally:
                    os.close(lifeline)
                self._procs[stage] = proc
            assert proc.stdout is not None and proc.stderr is not None
            err_reader = threading.Thread(target=self._pump, args=(stage, proc.stderr, True), daemon=True)
            err_reader.start()
            self._pump(stage, proc.stdout, False)
            err_reader.join()
            rc = proc.wait()
            os.close(keep)  # the guard is gone: nothing left to watch
            with self._lock:
                self._procs.pop(stage, None)
            if rc != 0:
                self.events.put(Finished(stage, rc, cmd))
                return
        self.events.put(Finished(stage, 0))

    def _pump(self, stage: str, stream: IO[bytes], stderr: bool) -> None:
        with stream:
            for raw in iter(stream.readline, b""):
                text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                self.events.put(Line(stage, text, stderr))

    def stop_all(self, grace: float = GRACE_S) -> None:
        """Interrupt every running command's process group and wait for the workers to end."""
        self._stopping.set()
        with self._lock:
            procs = list(self._procs.values())
        for proc in procs:
            _signal_group(proc, signal.SIGINT)
        deadline = time.monotonic() + grace
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        for proc in procs:
            _signal_group(proc, signal.SIGKILL)  # the leader may be gone while children linger
        with self._lock:
            threads = list(self._threads.values())
        for t in threads:
            t.join(timeout=grace)


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)
