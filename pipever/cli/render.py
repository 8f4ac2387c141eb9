"""Output: plain lines, JSON documents, tables (rich, or Markdown) and progress bars.

rich is imported only when a table or a progress bar is actually drawn."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from pipever.cli.context import STATE
from pipever.services.progress import NO_PROGRESS, Progress


def out(text: str = "") -> None:
    if not STATE.quiet:
        sys.stdout.write(text + "\n")


def err(text: str) -> None:
    sys.stderr.write(text + "\n")


def warn(text: str) -> None:
    sys.stderr.write(f"WARNING: {text}\n")


def confirm(question: str) -> bool:
    """Ask ``question [y/N]``; end of input (a script, ``< /dev/null``) answers no, where
    ``typer.confirm`` would raise Abort and the run would look interrupted (exit 130)."""
    sys.stdout.write(f"{question} [y/N]: ")
    sys.stdout.flush()
    answer = sys.stdin.readline()
    if not answer.endswith("\n"):
        sys.stdout.write("\n")
    return answer.strip().lower() in ("y", "yes")


def json_out(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def md_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def cell(v: object) -> str:
        return "" if v is None else str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, md: bool = False) -> None:
    if STATE.quiet:
        return
    if md:
        out(md_table(headers, rows))
        return
    if not sys.stdout.isatty():
        widths = [max([len(str(h))] + [len("" if r[i] is None else str(r[i])) for r in rows]) for i, h in enumerate(headers)]
        out("  ".join(str(h).ljust(w) for h, w in zip(headers, widths)).rstrip())
        for r in rows:
            out("  ".join(("" if v is None else str(v)).ljust(w) for v, w in zip(r, widths)).rstrip())
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(*headers, box=None, header_style="bold")
    for r in rows:
        t.add_row(*("" if v is None else str(v) for v in r))
    Console().print(t)


def human_size(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


class RichProgress:
    """A rich progress bar on stderr; one task at a time."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, Progress as RP, TextColumn, TimeRemainingColumn

        self._cols_bytes = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
        self._cols_files = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        self._rp = RP
        self._bar: Any = None
        self._task: Any = None

    def start(self, description: str, total: int | None = None, *, unit: str = "files") -> None:
        self.done()
        from rich.console import Console

        cols = self._cols_bytes if unit == "bytes" else self._cols_files
        self._bar = self._rp(*cols, console=Console(stderr=True), transient=True)
        self._bar.start()
        self._task = self._bar.add_task(description, total=total)

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, n)

    def done(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def progress() -> Progress:
    if STATE.quiet or not sys.stdout.isatty() or not sys.stderr.isatty():
        return NO_PROGRESS
    return RichProgress()
