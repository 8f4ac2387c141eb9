"""``pv push --run-cache`` / ``pv pull --run-cache``: share run-cache entries through a remote, so
any machine (or cluster worker's driver) with the same cmd+deps+params restores a stage's outputs
instead of running it.

Push sends the objects an entry names first (through ``push``'s own path: bulk existence check,
manifests after their files), then the entries whose objects are all on the remote; an entry
whose outputs are no longer in the cache stays home. Pull reads the entries the cache lacks and
fetches their objects (each verified); an entry is stored only once its objects are in the cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipever.commands.remotes import fetch as fetch_cmd, push as push_cmd
from pipever.errors import TransferError
from pipever.pipeline.lockfile import LockedPath
from pipever.pipeline.runcache import RUNS_DIR, RunCache, parse_entry
from pipever.remote import runs
from pipever.services import cloud
from pipever.services.progress import NO_PROGRESS, Progress
from pipever.services.stage_state import Probe
from pipever.services.used import UsedOut
from pipever.context import RepoContext

if TYPE_CHECKING:
    from pipever.remote.base import Remote


@dataclass
class RunCacheTransfer:
    entries: int = 0  # entries sent or received
    objects: int = 0  # objects sent or received for them
    skipped: int = 0  # entries left out: their outputs are not in the cache (push) or not on the remote (pull)
    warnings: list[str] = field(default_factory=list)


def _used(outs: tuple[LockedPath, ...]) -> list[UsedOut]:
    return [UsedOut(o.path, o.oid, o.is_dir, size=o.size) for o in outs]


def _open(repo: RepoContext, remote: str | None, result: RunCacheTransfer) -> Remote:
    rem = cloud.open_remote(repo, remote)
    if rem.ignored_options:
        result.warnings.append(cloud.ignored_warning(rem))
    return rem


def push_runs(repo: RepoContext, *, remote: str | None = None, jobs: int | None = None,
              progress: Progress = NO_PROGRESS) -> RunCacheTransfer:
    result = RunCacheTransfer()
    with repo.locked():
        rem = _open(repo, remote, result)
        cache = RunCache(repo.cache_dir / RUNS_DIR)
        probe = Probe(repo)
        there = runs.list_keys(rem)
        todo: dict[str, tuple[bytes, tuple[LockedPath, ...]]] = {}
        for key in cache.keys():
            data = cache.read(key)
            outs = parse_entry(data) if data is not None else None
            if key in there or data is None or outs is None:
                continue
            if not all(probe.in_cache(o.oid, is_dir=o.is_dir) for o in outs):
                result.skipped += 1
                continue
            todo[key] = (data, outs)
        if not todo:
            return result
        pushed = push_cmd.PushResult()
        errs = push_cmd._push_one(repo, rem, _used(tuple(o for _, outs in todo.values() for o in outs)),
                                  jobs or rem.jobs, progress, pushed)
        result.objects = pushed.pushed
        if errs:
            raise TransferError("push", errs[0], done=pushed.pushed, first_error=errs[1])
        for key, (data, _) in todo.items():
            runs.write(rem, key, data)
            result.entries += 1
    return result


def pull_runs(repo: RepoContext, *, remote: str | None = None, jobs: int | None = None,
              progress: Progress = NO_PROGRESS) -> RunCacheTransfer:
    result = RunCacheTransfer()
    with repo.locked():
        rem = _open(repo, remote, result)
        cache = RunCache(repo.cache_dir / RUNS_DIR)
        have = set(cache.keys())
        entries: dict[str, tuple[bytes, tuple[LockedPath, ...]]] = {}
        for key in sorted(runs.list_keys(rem) - have):
            data = runs.read(rem, key)
            outs = parse_entry(data)
            if outs is not None:
                entries[key] = (data, outs)
        if not entries:
            return result
        fetched = fetch_cmd.FetchResult()
        fails = fetch_cmd._Failures()
        fetch_cmd._fetch_one(repo, rem, _used(tuple(o for _, outs in entries.values() for o in outs)),
                             jobs or rem.jobs, progress, fetched, fails)
        result.objects = fetched.fetched
        probe = Probe(repo)
        for key, (data, outs) in entries.items():
            if all(probe.in_cache(o.oid, is_dir=o.is_dir) for o in outs):
                cache.put_entry(key, data)
                result.entries += 1
            else:
                result.skipped += 1
        if fails.labels:
            first = fails.first.message if fails.first is not None else None
            raise TransferError("fetch", fails.labels, done=fetched.fetched, first_error=first)
    return result


__all__ = ["RunCacheTransfer", "pull_runs", "push_runs"]
