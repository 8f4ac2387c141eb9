"""``pv ls [REPO] [PATH] [--rev R] [-R]``: the files of a pv repository at a commit, marking which
are pv-tracked, with sizes.

Files Git tracks and outs pv tracks (pointer files and ``pv.lock``) are merged into one tree.
A tracked directory is one entry (with its size and file count) unless the listing goes inside
it or is recursive; then its manifest is read (from the cache or the remote: that object only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipever.errors import TargetError
from pipever.commands.repos.extrepo import External, open_external
from pipever.paths import check_relpath, is_inside


@dataclass(frozen=True)
class LsEntry:
    path: str  # relative to the listed directory
    isout: bool  # pv-tracked (or inside a pv-tracked directory)
    isdir: bool
    size: int | None = None  # None for plain directories
    nfiles: int | None = None  # tracked directories that were not expanded
    isexec: bool = False

    def to_json(self) -> dict[str, object]:
        return {"path": self.path, "isout": self.isout, "isdir": self.isdir, "isexec": self.isexec,
                "size": self.size, **({"nfiles": self.nfiles} if self.nfiles is not None else {})}


@dataclass
class LsResult:
    url: str
    rev_lock: str
    entries: list[LsEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _files(ext: External, base: str, recursive: bool, warnings: list[str]) -> dict[str, LsEntry]:
    """Every file (and unexpanded tracked directory) of the repository, by repo-relative path."""
    files = {p: LsEntry(p, False, False, size, isexec=exe) for p, (size, exe) in ext.git_files().items()}
    for out in ext.outs():
        if not out.is_dir:
            files[out.rel] = LsEntry(out.rel, True, False, out.size)
            continue
        expand = (recursive and is_inside(out.rel, base)) or is_inside(base, out.rel)
        manifest = ext.manifest(out) if expand else None
        if manifest is None:
            if expand:
                warnings.append(f"the contents of '{out.rel}' are unknown: its manifest is neither cached nor on the remote")
            files[out.rel] = LsEntry(out.rel, True, True, out.size)
            continue
        for e in manifest.entries:
            files[f"{out.rel}/{e.path}"] = LsEntry(f"{out.rel}/{e.path}", True, False, e.size, isexec=e.isexec)
    return files


def listing(ext: External, path: str | None, *, recursive: bool) -> LsResult:
    base = check_relpath(path.strip("/"), allow_root=True) if path else "."
    result = LsResult(ext.url, ext.sha)
    files = _files(ext, base, recursive, result.warnings)
    if base in files:  # a single file, or a tracked directory that could not be expanded
        e = files[base]
        result.entries = [LsEntry(base.rsplit("/", 1)[-1], e.isout, e.isdir, e.size, e.nfiles, e.isexec)]
        return result
    prefix = "" if base == "." else base + "/"
    below = {p[len(prefix):]: e for p, e in files.items() if p.startswith(prefix)}
    if not below:
        raise TargetError(f"'{base}' does not exist in '{ext.label}'", hint=f"list the repository with 'pv ls {ext.url}'")
    entries: dict[str, LsEntry] = {}
    dirs: dict[str, bool] = {}  # implied directory -> every file below it is pv-tracked
    for rel, e in below.items():
        if recursive or "/" not in rel:
            entries[rel] = LsEntry(rel, e.isout, e.isdir, e.size, e.nfiles, e.isexec)
        else:
            head = rel.split("/", 1)[0]
            dirs[head] = dirs.get(head, True) and e.isout
    entries.update({d: LsEntry(d, isout, True) for d, isout in dirs.items()})
    result.entries = sorted(entries.values(), key=lambda e: e.path)
    return result


def ls(url: str, path: str | None = None, *, rev: str | None = None, recursive: bool = False,
       cache_dir: Path | None = None) -> LsResult:
    """List ``path`` (default: the top) of the pv repository ``url`` at ``rev``."""
    with open_external(url, rev=rev, cache_dir=cache_dir) as ext:
        return listing(ext, path, recursive=recursive)
