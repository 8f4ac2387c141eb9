"""pipever: data, model and pipeline versioning on top of Git."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from pipever.repo import Repo

__all__ = ["Repo", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Repo":
        from pipever.repo import Repo

        return Repo
    raise AttributeError(name)
