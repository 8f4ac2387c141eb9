"""Per-invocation CLI state: global flags and the open Repo."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipever.repo import Repo


@dataclass
class State:
    verbose: bool = False
    quiet: bool = False
    wait: bool = False
    command: str = "pv"
    repo: Repo | None = None


STATE = State()


def repo() -> Repo:
    """The repository around the current directory, opened once per invocation."""
    if STATE.repo is None:
        from pipever.repo import Repo

        r = Repo()
        r.wait_for_lock = STATE.wait
        r.command = STATE.command
        STATE.repo = r
    return STATE.repo


def close_repo() -> None:
    if STATE.repo is not None:
        with contextlib.suppress(Exception):
            STATE.repo.close()
        STATE.repo = None
