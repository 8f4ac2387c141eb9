"""The progress protocol commands report through; the CLI supplies a rich bar, the default does nothing."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, description: str, total: int | None = None, *, unit: str = "files") -> None: ...

    def advance(self, n: int = 1) -> None: ...

    def done(self) -> None: ...


class NoProgress:
    def start(self, description: str, total: int | None = None, *, unit: str = "files") -> None:
        return None

    def advance(self, n: int = 1) -> None:
        return None

    def done(self) -> None:
        return None


NO_PROGRESS = NoProgress()
