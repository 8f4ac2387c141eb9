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
