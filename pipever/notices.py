"""Warnings about the repository itself, raised below the commands (a committed setting that is
ignored, a damaged state database that was rebuilt), which no single command's result owns.

The CLI installs a sink that prints them as they happen (``WARNING: ...`` on stderr, before any
error); without a sink (the Python API) they go to the ``pipever`` logger. Each text once per run.
"""

from __future__ import annotations

from collections.abc import Callable

_sink: Callable[[str], None] | None = None
_seen: set[str] = set()


def warn(text: str) -> None:
    """Tell the user ``text`` (once per command run)."""
    if text in _seen:
        return
    _seen.add(text)
    if _sink is not None:
        _sink(text)
    else:
        import logging

        logging.getLogger("pipever").warning(text)


def start(sink: Callable[[str], None] | None) -> None:
    """Begin a command run: warnings go to ``sink`` and each is shown once again."""
    global _sink
    _sink = sink
    _seen.clear()
