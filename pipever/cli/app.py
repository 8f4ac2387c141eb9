"""The ``pv`` program: the typer app, global flags, and THE error boundary (``main``).

Command modules only register thin commands; each imports its command function lazily inside the command, so
start-up stays small (no gitpython, fsspec, networkx or rich unless the command needs them).
"""

from __future__ import annotations

import errno
import importlib
import os
import sys
from typing import Optional

import typer

try:  # newer typer vendors its own click
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover - older typer uses click itself
    from click.exceptions import ClickException  # type: ignore[assignment]

from pipever import __version__, notices
from pipever.cli import context

COMMAND_MODULES = ("data", "manage", "git", "model", "remote", "compare", "plots", "pipeline", "repos", "exp", "migrate",
                   "tools", "ui")
# The module that registers each top-level command. ``pv add ...`` builds only the commands of
# its own module (building all ~50 costs ~80 ms of start-up); a name missing here, ``pv --help``
# and typos build everything, so the index is a speed-up only, never a gate.
COMMAND_INDEX = {
    **dict.fromkeys(("init", "add", "status", "commit", "checkout", "config", "fsck", "cache"), "data"),
    **dict.fromkeys(("diff", "gc", "remove", "move", "unprotect", "check-ignore"), "manage"),
    **dict.fromkeys(("install", "uninstall", "git-hook"), "git"),
    "model": "model",
    **dict.fromkeys(("remote", "push", "fetch", "pull"), "remote"),
    **dict.fromkeys(("params", "metrics"), "compare"),
    "plots": "plots",
    **dict.fromkeys(("repro", "dag", "freeze", "unfreeze", "stage"), "pipeline"),
    **dict.fromkeys(("ls", "get", "import", "update", "import-url", "get-url"), "repos"),
    **dict.fromkeys(("exp", "queue"), "exp"),
    "migrate": "migrate",
    **dict.fromkeys(("doctor", "du", "ls-url", "completion"), "tools"),
    "ui": "ui",
}
COMPLETE_VAR = "_PV_COMPLETE"  # set by the scripts 'pv completion SHELL' prints

app = typer.Typer(
    name="pv",
    help="pipever: version data, models and pipelines next to your code in Git.",
    add_completion=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"pipever {__version__}")
        raise typer.Exit(0)


@app.callback()
def _global(
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Debug log; show tracebacks."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Errors only."),
    wait: bool = typer.Option(False, "--wait", help="Wait for another pv process's repo lock instead of failing."),
    version: Optional[bool] = typer.Option(  # noqa: UP007 - typer needs Optional on 3.10
        None, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    context.STATE.verbose = verbose or context.STATE.verbose
    context.STATE.quiet = quiet or context.STATE.quiet
    context.STATE.wait = wait


_REGISTERED: set[str] = set()


def register(modules: tuple[str, ...] = COMMAND_MODULES) -> None:
    """Add the commands of ``modules`` to ``app`` (each module once)."""
    for name in modules:
        if name not in _REGISTERED:
            importlib.import_module(f"pipever.cli.{name}").register(app)
            _REGISTERED.add(name)


def _modules_for(args: list[str]) -> tuple[str, ...]:
    """The command modules a command line needs: the global options take no values, so the first
    word that is not an option names the command."""
    word = next((a for a in args if not a.startswith("-")), None)
    module = COMMAND_INDEX.get(word or "")
    return (module,) if module else COMMAND_MODULES


# Commands whose last argument is a command line of the user's (``pv stage add -n x grep -v y``):
# their options that take a value, so ``_pre_parse`` can tell where that command line starts.
TRAILING_COMMAND = {
    ("stage", "add"): frozenset({
        "-n", "--name", "-d", "--deps", "-o", "--outs", "-O", "--outs-no-cache", "-p", "--params", "-m",
        "--metrics", "-M", "--metrics-no-cache", "--plots", "-w", "--wdir", "--desc",
    }),
}
VERBOSE = ("-v", "--verbose")
QUIET = ("-q", "--quiet")
# Commands with a -q/--quiet of their own (``pv status -q``: exit code only); after any other
# command, -q is the global flag, as DVC takes ``dvc init -q``.
OWN_QUIET = frozenset({"add", "status", "checkout", "diff", "push", "fetch", "pull", "repro"})


def pv_flags(argv: list[str]) -> list[int]:
    """Indexes of the words that may be pv's global ``-v``: none after ``--``, and none in a
    user's command line given to a ``TRAILING_COMMAND`` or in the value of one of its options."""
    end = argv.index("--") if "--" in argv else len(argv)
    words = [i for i, a in enumerate(argv) if not a.startswith("-")]
    for path, takes_value in TRAILING_COMMAND.items():
        if len(words) < len(path) or tuple(argv[i] for i in words[:len(path)]) != path:
            continue
        head = list(range(words[len(path) - 1] + 1))
        i = len(head)
        while i < end and argv[i].startswith("-"):
            head.append(i)
            i += 2 if argv[i] in takes_value else 1  # ``-n NAME`` (``--name=NAME`` is one word)
        return head
    return list(range(end))


def _pre_parse(argv: list[str]) -> None:
    """-v is accepted anywhere among pv's own words (``pv add -v x``), as in DVC, and so is -q
    after a command without a -q of its own (``pv init -q``); never inside a user's command line
    (``pv stage add -n s grep -v x``) or after ``--``."""
    mine = pv_flags(argv)
    drop = {i for i in mine if argv[i] in VERBOSE}
    context.STATE.verbose = bool(drop)
    command = next((a for a in argv if not a.startswith("-")), None)
    if command is not None and command not in OWN_QUIET:
        after = argv.index(command)
        quiet = {i for i in mine if i > after and argv[i] in QUIET}
        drop |= quiet
        context.STATE.quiet = context.STATE.quiet or bool(quiet)
    argv[:] = [a for i, a in enumerate(argv) if i not in drop]
    context.STATE.command = ("pv " + " ".join(argv))[:200]


def completion_script(shell: str) -> str:
    """The script that makes ``shell`` complete pv's commands, options and arguments."""
    from typer._completion_classes import completion_init  # typer's own completion, pinned < 0.29
    from typer._completion_shared import get_completion_script

    completion_init()
    return str(get_completion_script(prog_name="pv", complete_var=COMPLETE_VAR, shell=shell)).rstrip("\n")


def _complete() -> int:
    """Answer a completion request of a shell (``_PV_COMPLETE`` set): every command is built."""
    from typer._completion_classes import completion_init

    completion_init()
    register()
    command = typer.main.get_command(app)
    try:
        command.main(args=[], prog_name="pv", complete_var=COMPLETE_VAR, standalone_mode=False)
    except SystemExit as exc:
        return int(exc.code or 0)
    except Exception:  # noqa: BLE001 - a malformed request from a shell: offer nothing
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    if os.environ.get(COMPLETE_VAR):
        return _complete()
    args = list(sys.argv[1:] if argv is None else argv)
    notices.start(_warn)
    _pre_parse(args)
    if context.STATE.verbose:
        _debug_log()
    register(_modules_for(args))
    command = typer.main.get_command(app)
    try:
        _start_up_is_over()
        rv = command.main(args=args, prog_name="pv", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        _err("interrupted")
        return 130
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except ClickException as exc:  # usage errors
        exc.show()
        return 2
    except BrokenPipeError:
        return 1
    except OSError as exc:
        if exc.errno not in ENVIRONMENT_ERRNOS:
            return _unexpected(exc)
        # the machine said no (disk full, permissions, limits): not a bug to report
        from pipever.errors import os_error_hint

        _traceback()
        where = f": '{exc.filename}'" if exc.filename else ""
        _err(f"{exc.strerror or exc}{where} — {os_error_hint(exc.errno)}")
        return 1
    except Exception as exc:  # noqa: BLE001 - this is the boundary
        if _caused_by_interrupt(exc):  # Ctrl-C during an import surfaces as RuntimeError
            _err("interrupted")
            return 130
        return _unexpected(exc)
    finally:
        context.close_repo()
        if context.STATE.verbose:
            _quiet_log()
    if rv == 130:  # typer >= 0.16 turns Ctrl-C (KeyboardInterrupt) into a returned 130
        _err("interrupted")
    return rv if isinstance(rv, int) else 0


def _start_up_is_over() -> None:
    """The command runs from now on: Ctrl-C becomes a KeyboardInterrupt its clean-up sees (the
    console script's start-up handler, ``entry._interrupted_during_start_up``, just exits 130)."""
    import _signal  # builtin; 'signal' would cost ms

    try:
        if getattr(_signal.getsignal(_signal.SIGINT), "__name__", "") == "_interrupted_during_start_up":
            _signal.signal(_signal.SIGINT, _signal.default_int_handler)
    except (ValueError, OSError):  # not the main thread
        pass


def _debug_log() -> None:
    """-v: pv's debug log (git calls, files hashed, remote requests) on stderr, through
    ``logging`` (the modules log to ``pipever.*``; only here is a handler attached)."""
    import logging
    import time

    start = time.monotonic()

    class _Elapsed(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return f"DEBUG {time.monotonic() - start:7.3f}s {record.name.removeprefix('pipever.')}: {record.getMessage()}"

    logger = logging.getLogger("pipever")
    for old in [h for h in logger.handlers if getattr(h, "_pv_debug", False)]:
        logger.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Elapsed())
    handler._pv_debug = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False


def _quiet_log() -> None:
    """Undo ``_debug_log`` (in-process callers, e.g. tests, run several commands in one process)."""
    if "logging" in sys.modules:
        import logging

        logger = logging.getLogger("pipever")
        for old in [h for h in logger.handlers if getattr(h, "_pv_debug", False)]:
            logger.removeHandler(old)
        logger.setLevel(logging.WARNING)


ENVIRONMENT_ERRNOS = frozenset({
    errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EACCES, errno.EPERM, errno.EROFS, errno.EMFILE, errno.ENFILE,
})


def _caused_by_interrupt(exc: BaseException) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, KeyboardInterrupt):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False


def _unexpected(exc: Exception) -> int:
    from pipever.errors import PvError

    _traceback()
    if isinstance(exc, PvError):
        _err(exc.render())
    else:
        _err(f"unexpected {type(exc).__name__}: {exc} — rerun with -v and report it")
    return 1


def _traceback() -> None:
    if context.STATE.verbose:
        import traceback

        traceback.print_exc()


def _warn(text: str) -> None:
    sys.stderr.write(f"WARNING: {text}\n")


def _err(text: str) -> None:
    sys.stderr.write(f"ERROR: {text}\n")
    sys.stderr.flush()


if os.environ.get("PV_DEBUG_IMPORTS"):  # pragma: no cover - a developer aid
    print(sorted(m for m in sys.modules if m.split(".")[0] in {"git", "fsspec", "networkx", "rich"}), file=sys.stderr)
