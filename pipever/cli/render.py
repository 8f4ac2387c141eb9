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


def csv_out(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows([["" if v is None or v == "-" else v for v in r] for r in rows])
    sys.stdout.write(buf.getvalue())


def md_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def cell(v: object) -> str:
        return "" if v is None else str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(v: object) -> str:
    return "" if v is None else str(v)


def plain_lines(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """Aligned columns, two spaces apart, at their full width."""
    widths = [max([len(str(h))] + [len(_cell(r[i])) for r in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(_cell(v).ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows]
    return lines


def fitted_lines(headers: Sequence[str], rows: Sequence[Sequence[object]], width: int, *, key: int = 1) -> list[str]:
    """The table in blocks of columns that each fit ``width`` (the first ``key`` columns repeated
    in every block, a blank line between blocks): no column is cut or lost. Pure."""
    widths = [max([len(str(h))] + [len(_cell(r[i])) for r in rows]) for i, h in enumerate(headers)]
    fixed = sum(widths[:key]) + 2 * key
    blocks: list[list[int]] = [[]]
    used = fixed
    for i in range(key, len(headers)):
        if blocks[-1] and used + widths[i] > width:
            blocks.append([])
            used = fixed
        blocks[-1].append(i)
        used += widths[i] + 2
    lines: list[str] = []
    for n, block in enumerate(blocks):
        cols = list(range(key)) + block
        if n:
            lines.append("")
        lines += plain_lines([headers[i] for i in cols], [[r[i] for i in cols] for r in rows])
    return lines


def terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((100, 24)).columns


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, md: bool = False, fit: bool = False,
          no_trunc: bool = False) -> None:
    """A table: Markdown, plain columns when stdout is no terminal, else rich. ``fit``: on a
    terminal too narrow for it, the columns are split into blocks that fit (none cut or lost);
    ``no_trunc``: full width whatever the terminal."""
    if STATE.quiet:
        return
    if md:
        out(md_table(headers, rows))
        return
    if not sys.stdout.isatty() or no_trunc:
        for line in plain_lines(headers, rows):
            out(line)
        return
    if fit:
        width = terminal_width()
        if max(len(line) for line in plain_lines(headers, rows)) > width:
            for line in fitted_lines(headers, rows, width):
                out(line)
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
