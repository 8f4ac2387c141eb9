"""Runs one stage command so that it cannot outlive the pv that started it.

``python -I -S stage_guard.py FD ARGV...``: the runner starts this script as the leader of a new
session, handing it the read end of a pipe whose write end only pv holds. The script runs ARGV
(the shell and the stage's cmd) as its child in the same process group and relays its exit status.
If pv dies in any way, SIGKILL included, the kernel closes the write end; the script then sees
end-of-file and kills the whole process group: the shell, what it started, and itself. Without
this, a killed pv would leave the stage writing into the work tree while the next ``pv repro``
runs the same stage again.

Only the standard library is used, and the script is run as a file with ``-I -S``, so it starts
in a few milliseconds and nothing on the user's ``PYTHONPATH`` is imported into it.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

_RESET = ("SIGINT", "SIGPIPE", "SIGXFSZ")  # what Python changed or the guard ignores


def _watch(fd: int) -> None:
    """Block until pv closes its end of the pipe, then kill the group."""
    try:
        while os.read(fd, 512):
            pass
    except OSError:
        pass
    os.killpg(0, signal.SIGKILL)


def main(argv: list[str]) -> int:
    fd = int(argv[0])
    command = argv[1:]
    os.set_inheritable(fd, False)
    # Ctrl-C reaches the group as a whole (pv's stop_all signals it): the command decides what
    # to do with it; the guard stays to report how it ended.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    pid = os.fork()
    if pid == 0:  # the command
        for name in _RESET:
            signal.signal(getattr(signal, name), signal.SIG_DFL)
        try:
            os.execvp(command[0], command)
        except OSError as exc:
            os.write(2, f"{command[0]}: {exc.strerror or exc}\n".encode())
        os._exit(127)
    threading.Thread(target=_watch, args=(fd,), daemon=True).start()
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:  # pragma: no cover - retried by Python itself since 3.5
            continue
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)  # end the same way, so pv sees the same status
        return 128 + sig
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1


if __name__ == "__main__":
    sys.stdout.flush()
    os._exit(main(sys.argv[1:]))
