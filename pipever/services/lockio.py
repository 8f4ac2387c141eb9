"""``pv.lock`` of the workspace: read, written atomically with entries in ``pv.yaml`` order, and
written again after each stage of a run without re-dumping the entries that did not change."""

from __future__ import annotations

from pipever import yamlio
from pipever.fsutil import atomic_write_text
from pipever.pipeline.lockfile import LOCK_FILE, SCHEMA, LockEntry, Lockfile, parse_lockfile, to_data, write_lockfile
from pipever.pipeline.stage import Pipeline
from pipever.paths import read_inside
from pipever.context import RepoContext


def read_lock(repo: RepoContext) -> Lockfile:
    """The workspace's ``pv.lock`` (empty when there is none); SchemaError if it is invalid."""
    data = read_inside(repo.root, LOCK_FILE)
    if data is None:
        return Lockfile()
    return parse_lockfile(data.decode("utf-8"), LOCK_FILE)


def _ordered(lock: Lockfile, pipeline: Pipeline) -> Lockfile:
    """Entries in ``pv.yaml`` order (others after, as they were), so runs in parallel write a
    deterministic file."""
    order = {name: i for i, name in enumerate(pipeline.stages)}
    position = {name: i for i, name in enumerate(lock.stages)}
    names = sorted(lock.stages, key=lambda n: (order.get(n, len(order)), position[n]))
    return Lockfile({n: lock.stages[n] for n in names})


def write_lock(repo: RepoContext, lock: Lockfile, pipeline: Pipeline) -> None:
    """Write ``pv.lock`` atomically, entries in ``pv.yaml`` order."""
    path = repo.root / LOCK_FILE
    if not lock.stages and not path.exists():
        return
    write_lockfile(path, _ordered(lock, pipeline))


class LockWriter:
    """Writes ``pv.lock`` after each stage of a run. The text of ``lockfile.dump_lockfile`` is
    assembled from per-entry YAML that is kept for unchanged entries: writing after each of n
    stages costs n small dumps, not n dumps of the whole file."""

    def __init__(self, repo: RepoContext, pipeline: Pipeline) -> None:
        self.path = repo.root / LOCK_FILE
        self.pipeline = pipeline
        self._chunks: dict[str, tuple[LockEntry, str]] = {}

    def _chunk(self, name: str, entry: LockEntry) -> str:
        known = self._chunks.get(name)
        if known is not None and known[0] is entry:
            return known[1]
        text = yamlio.dump(to_data(Lockfile({name: entry}))["stages"])
        chunk = "".join("  " + ln if ln.strip() else ln for ln in text.splitlines(keepends=True))
        self._chunks[name] = (entry, chunk)
        return chunk

    def write(self, lock: Lockfile) -> None:
        ordered = _ordered(lock, self.pipeline)
        if not ordered.stages:
            write_lockfile(self.path, ordered)
            return
        head = yamlio.dump({"schema": SCHEMA}) + "stages:\n"
        atomic_write_text(self.path, head + "".join(self._chunk(n, e) for n, e in ordered.stages.items()))
