"""``COMMAND_INDEX`` (which module registers which command) must match the modules exactly:
a command indexed under the wrong module would be missing when invoked."""

from __future__ import annotations

import importlib

import pytest
import typer

from pipever.cli.app import COMMAND_INDEX, COMMAND_MODULES, OWN_QUIET, TRAILING_COMMAND


def _names(module: str) -> set[str]:
    app = typer.Typer()
    app.callback()(lambda: None)  # a group even when the module registers one command (pv ui)
    importlib.import_module(f"pipever.cli.{module}").register(app)
    return {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}  # type: ignore[misc]


@pytest.mark.parametrize("module", COMMAND_MODULES)
def test_index_lists_exactly_the_commands_of_each_module(module: str) -> None:
    assert _names(module) == {name for name, mod in COMMAND_INDEX.items() if mod == module}


def test_every_indexed_module_is_a_command_module() -> None:
    assert set(COMMAND_INDEX.values()) <= set(COMMAND_MODULES)


def test_an_error_caused_by_ctrl_c_is_an_interruption() -> None:
    from pipever.cli.app import _caused_by_interrupt

    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as ki:
            raise RuntimeError("Error calling __set_name__") from ki
    except RuntimeError as exc:
        assert _caused_by_interrupt(exc)
    assert not _caused_by_interrupt(RuntimeError("plain"))


def _option_words(module: str, *path: str) -> tuple[set[str], set[str]]:
    """(options taking a value, flags) of the command at ``path``, as click sees them."""
    app = typer.Typer()
    app.callback()(lambda: None)  # a group even when the module registers one command (pv ui)
    importlib.import_module(f"pipever.cli.{module}").register(app)
    cmd = typer.main.get_command(app)
    ctx = typer.Context(cmd)
    for word in path:
        cmd = cmd.get_command(ctx, word)  # type: ignore[attr-defined]
    valued: set[str] = set()
    flags: set[str] = set()
    for param in cmd.params:
        if getattr(param, "opts", None) and param.param_type_name == "option":
            (flags if param.is_flag else valued).update(param.opts)  # type: ignore[attr-defined]
    return valued, flags


@pytest.mark.parametrize("path", sorted(TRAILING_COMMAND))
def test_trailing_command_knows_which_options_take_a_value(path: tuple[str, ...]) -> None:
    valued, _ = _option_words(COMMAND_INDEX[path[0]], *path)
    assert TRAILING_COMMAND[path] == valued


def pre_parsed(argv: list[str]) -> tuple[bool, bool, list[str]]:
    """(verbose, quiet, words left for typer) after ``_pre_parse``."""
    from pipever.cli import app, context

    words = list(argv)
    try:
        app._pre_parse(words)
        return context.STATE.verbose, context.STATE.quiet, words
    finally:
        context.STATE.verbose = context.STATE.quiet = False


@pytest.mark.parametrize(("argv", "verbose", "left"), [
    (["add", "-v", "x"], True, ["add", "x"]),
    (["--verbose", "status"], True, ["status"]),
    (["stage", "add", "-n", "s", "grep", "-v", "x"], False, ["stage", "add", "-n", "s", "grep", "-v", "x"]),
    (["stage", "add", "-v", "-n", "-v", "-f", "grep", "-v"], True, ["stage", "add", "-n", "-v", "-f", "grep", "-v"]),
    (["stage", "add", "--name=s", "-v", "grep", "-v"], True, ["stage", "add", "--name=s", "grep", "-v"]),
    (["stage", "add", "-n", "s", "--", "-v"], False, ["stage", "add", "-n", "s", "--", "-v"]),
    (["exp", "run", "-S", "p.yaml:a=1", "-v"], True, ["exp", "run", "-S", "p.yaml:a=1"]),
    (["status", "--", "-v"], False, ["status", "--", "-v"]),
])
def test_verbose_is_taken_only_from_pvs_own_words(argv: list[str], verbose: bool, left: list[str]) -> None:
    now_verbose, _, words = pre_parsed(argv)
    assert (now_verbose, words) == (verbose, left)


def _paths(cmd: typer.core.TyperGroup | object, path: tuple[str, ...], ctx: typer.Context) -> list[tuple[str, ...]]:
    if not hasattr(cmd, "commands"):
        return [path]
    return [p for name in cmd.list_commands(ctx) for p in _paths(cmd.get_command(ctx, name), (*path, name), ctx)]  # type: ignore[attr-defined]


def test_own_quiet_lists_exactly_the_commands_with_a_quiet_of_their_own() -> None:
    own = set()
    for module in COMMAND_MODULES:
        app = typer.Typer()
        importlib.import_module(f"pipever.cli.{module}").register(app)
        app.callback()(lambda: None)
        group = typer.main.get_command(app)
        for path in _paths(group, (), typer.Context(group)):
            valued, flags = _option_words(module, *path)
            if {"-q", "--quiet"} & (valued | flags):
                assert len(path) == 1, f"{path}: only top-level commands may have their own -q"
                own.add(path[0])
    assert own == OWN_QUIET


@pytest.mark.parametrize(("argv", "quiet", "left"), [
    (["init", "-q"], True, ["init"]),
    (["remote", "add", "--quiet", "r", "/x"], True, ["remote", "add", "r", "/x"]),
    (["status", "-q"], False, ["status", "-q"]),
    (["-q", "status"], False, ["-q", "status"]),  # before the command: typer's global option
    (["stage", "add", "-n", "s", "grep", "-q", "x"], False, ["stage", "add", "-n", "s", "grep", "-q", "x"]),
    (["init", "--", "-q"], False, ["init", "--", "-q"]),
])
def test_quiet_after_a_command_without_its_own_is_global(argv: list[str], quiet: bool, left: list[str]) -> None:
    _, now_quiet, words = pre_parsed(argv)
    assert (now_quiet, words) == (quiet, left)
