"""``COMMAND_INDEX`` (which module registers which command) must match the modules exactly:
a command indexed under the wrong module would be missing when invoked."""

from __future__ import annotations

import importlib

import pytest
import typer

from pipever.cli.app import COMMAND_INDEX, COMMAND_MODULES


def _names(module: str) -> set[str]:
    app = typer.Typer()
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
