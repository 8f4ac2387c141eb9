"""The ``pv`` console script. ``pv --version`` is answered before typer is imported (scripts call
it to probe for pv); every other command line goes to :func:`pipever.cli.app.main`."""

from __future__ import annotations

import os
import sys

import _signal  # builtin and loaded: 'signal' builds enums for ms


def _interrupted_during_start_up(signum: int, frame: object) -> None:
    """Ctrl-C before the command runs: nothing is open or written yet, so leave at once, as
    anywhere else (exit 130, one line), instead of a traceback from whatever was importing."""
    os.write(2, b"ERROR: interrupted\n")
    os._exit(130)


def _unraisable(hook: object) -> object:
    """A Ctrl-C that lands in a callback Python cannot raise from (an import lock's weakref
    callback) is printed as 'Exception ignored' with a traceback and then lost: deliver it again
    to the main thread instead, where the boundary turns it into exit 130."""
    def handle(info: object) -> None:
        if isinstance(getattr(info, "exc_value", None), KeyboardInterrupt):
            import _thread

            _thread.interrupt_main()
            return
        hook(info)  # type: ignore[operator]
    return handle


def _start_up() -> None:
    try:
        if _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:  # not when the parent ignores it (nohup)
            _signal.signal(_signal.SIGINT, _interrupted_during_start_up)
        elif getattr(_signal.getsignal(_signal.SIGINT), "__name__", "") != "_interrupted_during_start_up":
            return
    except (ValueError, OSError):  # not the main thread of the main interpreter
        return
    sys.unraisablehook = _unraisable(sys.unraisablehook)  # type: ignore[assignment]


_start_up()  # as early as possible: 'python -m pipever' and the console scripts import this first


def main() -> int:
    if sys.argv[1:] == ["--version"]:
        from pipever import __version__

        print(f"pipever {__version__}")
        return 0
    from pipever.cli.app import main as run

    code = run()
    try:
        _ignore_late_interrupts()
    except KeyboardInterrupt:  # it came as the command returned, before it could be ignored
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
