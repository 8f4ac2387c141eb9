"""pipever: data, model and pipeline versioning on top of Git."""

from __future__ import annotations

__version__ = "0.1.0"

TYPE_CHECKING = False  # not 'typing' (~5 ms): the first thing 'pv' imports, while Ctrl-C is not yet handled
if TYPE_CHECKING:
    from typing import Any

    from pipever.repo import Repo

__all__ = ["Repo", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Repo":
        from pipever.repo import Repo

        return Repo
    raise AttributeError(name)
