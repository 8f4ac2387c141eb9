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

    return run()
