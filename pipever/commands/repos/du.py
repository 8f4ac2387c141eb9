"""``pv du [REPO] [PATH] [--rev R] [-s]``: disk usage of a pv repository at a commit, as ``dvc du``.

Sizes add up what Git tracks and what pv tracks (pointer files and ``pv.lock`` outs, whether or
not the data is here), so a fresh clone shows the size its data will take once pulled. pv's own
files (``.pv/``, pointer files) are left out, as DVC leaves out its own. Each entry directly below
PATH gets a line, then PATH's total; ``summarize`` keeps only the total. A tracked directory's
size comes from its pointer; its manifest is read only when PATH is inside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipever.data.pointer import SUFFIX
from pipever.errors import TargetError
from pipever.commands.repos.extrepo import External, open_external
from pipever.commands.repos.ls import _files
from pipever.paths import check_relpath


@dataclass(frozen=True)
class DuEntry:
    path: str  # repo-relative; '.' for the whole repository
    size: int
    isdir: bool

    def to_json(self) -> dict[str, object]:
        return {"path": self.path, "size": self.size, "isdir": self.isdir}


@dataclass(frozen=True)
class DuResult:
    entries: tuple[DuEntry, ...]  # children of PATH (empty with summarize), then PATH itself
    warnings: tuple[str, ...] = ()

    @property
    def total(self) -> DuEntry:
        return self.entries[-1]


def _own(path: str) -> bool:
    return path.startswith(".pv/") or path.endswith(SUFFIX)


def usage(ext: External, path: str | None, *, summarize: bool = False) -> DuResult:
    base = check_relpath(path.strip("/"), allow_root=True) if path else "."
    warnings: list[str] = []
    files = {p: e for p, e in _files(ext, base, False, warnings).items() if not _own(p)}
    if base in files:  # a file, or a tracked directory whose manifest is unknown
        e = files[base]
        return DuResult((DuEntry(base, e.size or 0, e.isdir),), tuple(warnings))
    prefix = "" if base == "." else base + "/"
    below = {p: e for p, e in files.items() if p.startswith(prefix)}
    if not below:
        raise TargetError(f"'{base}' does not exist in '{ext.label}'", hint="see 'pv ls' for what is there")
    children: dict[str, list[int]] = {}
    dirs: set[str] = set()
    for rel, e in below.items():
        head, sep, _rest = rel[len(prefix):].partition("/")
        children.setdefault(prefix + head, []).append(e.size or 0)
        if sep or e.isdir:
            dirs.add(prefix + head)
    total = DuEntry(base, sum(sum(s) for s in children.values()), True)
    if summarize:
        return DuResult((total,), tuple(warnings))
    entries = [DuEntry(p, sum(sizes), p in dirs) for p, sizes in sorted(children.items(), key=lambda kv: kv[0].lower())]
    return DuResult((*entries, total), tuple(warnings))


def du(url: str, path: str | None = None, *, rev: str | None = None, summarize: bool = False,
       cache_dir: Path | None = None) -> DuResult:
    """Disk usage below ``path`` of the pv repository ``url`` at ``rev`` (default: its HEAD)."""
    with open_external(url, rev=rev, cache_dir=cache_dir) as ext:
        return usage(ext, path, summarize=summarize)
