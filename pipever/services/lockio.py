"""``pv.lock`` files of the workspace: read (every pipeline file's lock, merged as
``pipeline.multi`` keys stages), written atomically with entries in ``pv.yaml`` order, and written
again after each stage of a run without re-dumping the entries that did not change."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from pipever import yamlio
from pipever.fsutil import atomic_write_text
from pipever.pipeline import multi
from pipever.pipeline.lockfile import SCHEMA, LockEntry, Lockfile, to_data, write_lockfile
from pipever.pipeline.stage import Pipeline
from pipever.context import RepoContext


def read_lock(repo: RepoContext) -> Lockfile:
    """The workspace's ``pv.lock`` files, merged (empty when there is none); SchemaError if one
    is invalid."""
    from pipever.services import pipeline_files as pf

    return pf.load_locks(pf.workspace_files(repo) or [multi.PIPELINE_FILE], pf.workspace_reader(repo))


def _ordered(lock: Lockfile, pipeline: Pipeline) -> Lockfile:
    """Entries in ``pv.yaml`` order (others after, as they were), so runs in parallel write a
    deterministic file."""
    order = {name: i for i, name in enumerate(pipeline.stages)}
    position = {name: i for i, name in enumerate(lock.stages)}
    names = sorted(lock.stages, key=lambda n: (order.get(n, len(order)), position[n]))
    return Lockfile({n: lock.stages[n] for n in names})


def _files(lock: Lockfile, pipeline: Pipeline) -> dict[str, Lockfile]:
    """Each lock file's entries; a pipeline file without entries gets an empty lock."""
    parts = multi.split_lock(_ordered(lock, pipeline))
    for key in pipeline.stages:
        parts.setdefault(multi.lock_file_of(multi.file_of(key)), Lockfile())
    return parts


def write_lock(repo: RepoContext, lock: Lockfile, pipeline: Pipeline, *, also: Iterable[str] = ()) -> None:
    """Write the ``pv.lock`` files atomically, entries in ``pv.yaml`` order; a lock file with
    no entries left (or one of ``also`` that has none now) is written empty if it exists, never
    created."""
    parts = _files(lock, pipeline)
    for rel in also:
        parts.setdefault(rel, Lockfile())
    for rel, part in parts.items():
        path = repo.root / rel
        if not part.stages and not path.exists():
            continue
        write_lockfile(path, part, posixpath.dirname(rel) or ".")


class LockWriter:
    """Writes ``pv.lock`` files after each stage of a run. The text of ``lockfile.dump_lockfile``
    is assembled from per-entry YAML that is kept for unchanged entries: writing after each of n
    stages costs n small dumps, not n dumps of the whole file; a lock file whose entries did not
    change is not written again."""

    def __init__(self, repo: RepoContext, pipeline: Pipeline) -> None:
        self.root = repo.root
        self.pipeline = pipeline
        self._chunks: dict[str, tuple[LockEntry, str]] = {}
        self._written: dict[str, str] = {}

    def _chunk(self, key: str, name: str, entry: LockEntry, base: str) -> str:
        known = self._chunks.get(key)
        if known is not None and known[0] is entry:
            return known[1]
        text = yamlio.dump(to_data(Lockfile({name: entry}), base)["stages"])
        chunk = "".join("  " + ln if ln.strip() else ln for ln in text.splitlines(keepends=True))
        self._chunks[key] = (entry, chunk)
        return chunk

    def write(self, lock: Lockfile) -> None:
        for rel, part in _files(lock, self.pipeline).items():
            base = posixpath.dirname(rel) or "."
            if not part.stages:
                if rel in self._written or (self.root / rel).exists():
                    write_lockfile(self.root / rel, part, base)
                continue
            pfile = multi.pipeline_file_of(rel)
            head = yamlio.dump({"schema": SCHEMA}) + "stages:\n"
            text = head + "".join(self._chunk(multi.qualify(pfile, n), n, e, base) for n, e in part.stages.items())
            if self._written.get(rel) != text:
                atomic_write_text(self.root / rel, text)
                self._written[rel] = text
