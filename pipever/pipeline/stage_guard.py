"""Runs one stage command so that it cannot outlive the pv that started it.

``python -I -S stage_guard.py FD ARGV...``: the runner starts this script as the leader of a new
session, handing it the read end of a pipe whose write end only pv holds. The script runs ARGV
(the shell and the stage's cmd) as its child in the same process group and relays its exit status.
If pv dies in any way, SIGKILL included, the kernel closes the write end; the script then sees
end-of-file and kills the whole process group: the shell, what it started, and itself. Without
this, a killed pv would leave the stage writing into the work tree while the next ``pv repro``
runs the same stage again.

It runs once per stage command, so it is kept to a few milliseconds over the interpreter's own
start: run as a file with ``-I -S`` (nothing from the user's ``PYTHONPATH`` or site-packages), only
built-in modules (``_signal``, not ``signal``, which imports ``enum``), ``posix_spawn`` and, on
Linux, one ``poll`` over the pipe and a pidfd instead of a thread.
"""

import os
import sys

import _signal

# Python ignores SIGPIPE and SIGXFSZ, and the guard SIGINT: the command gets the defaults back
RESET = (_signal.SIGINT, _signal.SIGPIPE, _signal.SIGXFSZ)


def _kill_group() -> None:
    os.killpg(0, _signal.SIGKILL)


def _watch(fd: int) -> None:
    """Block until pv closes its end of the pipe, then kill the group."""
    try:
        while os.read(fd, 512):
            pass
    except OSError:
        pass
    _kill_group()


def _wait(pid: int, fd: int) -> int:
    """The command's wait status; kills the group instead if pv goes first."""
    pidfd = -1
    if hasattr(os, "pidfd_open") and not os.environ.get("PV_STAGE_GUARD_THREAD"):
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:  # an old kernel
            pidfd = -1
    if pidfd < 0:
        import threading

        threading.Thread(target=_watch, args=(fd,), daemon=True).start()
        return os.waitpid(pid, 0)[1]
    import select

    poller = select.poll()
    poller.register(fd, select.POLLIN)
    poller.register(pidfd, select.POLLIN)
    while True:
        for ready, _ in poller.poll():
            if ready == pidfd:
                return os.waitpid(pid, 0)[1]
            try:
                more = os.read(fd, 512)
            except OSError:
                more = b""
            if not more:
                _kill_group()


def main(argv: list[str]) -> int:
    fd = int(argv[0])
    command = argv[1:]
    os.set_inheritable(fd, False)
    # Ctrl-C reaches the group as a whole (pv's stop_all signals it): the command decides what
    # to do with it; the guard stays to report how it ended.
    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)
    try:
        pid = os.posix_spawnp(command[0], command, os.environ, setsigdef=RESET)
    except OSError as exc:
        os.write(2, f"{command[0]}: {exc.strerror or exc}\n".encode())
        return 127
    status = _wait(pid, fd)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig not in (_signal.SIGKILL, _signal.SIGSTOP):
            _signal.signal(sig, _signal.SIG_DFL)
        os.kill(os.getpid(), sig)  # end the same way, so pv sees the same status
        return 128 + sig
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1


if __name__ == "__main__":
    os._exit(main(sys.argv[1:]))
