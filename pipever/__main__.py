import _signal  # first: Ctrl-C from here on is 'interrupted', exit 130
import os


def _interrupted_during_start_up(signum: int, frame: object) -> None:
    os.write(2, b"ERROR: interrupted\n")
    os._exit(130)


if _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
    _signal.signal(_signal.SIGINT, _interrupted_during_start_up)

from pipever.cli.entry import main  # noqa: E402 - after the handler

raise SystemExit(main())
