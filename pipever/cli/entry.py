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
    return code


def _ignore_late_interrupts() -> None:
    """The command has finished and reported: a Ctrl-C now (while the interpreter shuts down
    and its handlers are back to the default) must not turn the exit status into a signal."""
    import signal

    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except (ValueError, OSError):  # not the main thread of the main interpreter
        pass
