"""The ``pv`` console script. ``pv --version`` is answered before typer is imported (scripts call
it to probe for pv); every other command line goes to :func:`pipever.cli.app.main`."""

from __future__ import annotations

import sys


def main() -> int:
    if sys.argv[1:] == ["--version"]:
        from pipever import __version__

        print(f"pipever {__version__}")
        return 0
    from pipever.cli.app import main as run

    code = run()
    _ignore_late_interrupts()
    if code == 130:
        _exit_interrupted()
    return code


def _exit_interrupted() -> None:
    """Exit 130 for sure. CPython 3.11 notes a Ctrl-C that surfaced inside any ``exec``/``eval``
    of a string (dataclass and namedtuple creation during a lazy import) and, at exit, kills
    itself with SIGINT even though pv caught it, cleaned up and returned 130. Everything is
    closed by now (lock, state db, pools), so leave after the exit handlers, without the
    interpreter's own finalisation."""
    import atexit
    import os

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(130)


def _ignore_late_interrupts() -> None:
    """The command has finished and reported: a Ctrl-C now (while the interpreter shuts down
    and its handlers are back to the default) must not turn the exit status into a signal."""
    import signal

    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except (ValueError, OSError):  # not the main thread of the main interpreter
        pass
