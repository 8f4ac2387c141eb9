"""``pv fetch``: download the objects the selected outs need and the cache lacks.

Directory manifests come first (they say which files a directory needs), then the files. Every
object is hashed before it enters the cache; a corrupt download is a failure naming the oid and
nothing of it is kept. Failures do not stop the other downloads: TransferError lists them at the
end and a rerun fetches only what is still missing. Objects the remote does not have are
reported in ``missing`` (not for outs marked ``push: false``, which are often never pushed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pipever.errors import PvError, TransferError
from pipever.objects.odb import ObjectRef
from pipever.services import cloud
from pipever.services.progress import NO_PROGRESS, Progress
from pipever.services.used import UsedOut
from pipever.remote import failures, transfer
from pipever.remote.base import Remote
from pipever.context import RepoContext


@dataclass
class FetchResult:
    fetched: int = 0  # objects downloaded
    bytes: int = 0
    remotes: list[str] = field(default_factory=list)
    missing: dict[str, list[str]] = field(default_factory=dict)  # remote -> objects it lacks
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Failures:
    labels: list[str] = field(default_factory=list)
    first: PvError | None = None

    def add(self, outcome: transfer.Outcome[ObjectRef], need: cloud.Needed) -> None:
        self.labels += [need.label(r) for r, _ in outcome.failed] + [need.label(r) for r in outcome.not_attempted]
        first = outcome.fatal or (outcome.failed[0][1] if outcome.failed else None)
        self.first = self.first or first


def fetch(
    repo: RepoContext, targets: Sequence[str] = (), *, remote: str | None = None, jobs: int | None = None,
    all_branches: bool = False, all_tags: bool = False, all_commits: bool = False,
    revs: Sequence[str] = (), workspace: bool = True, progress: Progress = NO_PROGRESS, with_deps: bool = False,
) -> FetchResult:
    scope = cloud.Scope(all_branches, all_tags, all_commits, tuple(revs), workspace)
    if targets:
        from pipever.services.stage_targets import data_targets

        targets = data_targets(repo, targets, with_deps=with_deps)
    result = FetchResult()
    fails = _Failures()
    with repo.locked():
        outs = cloud.select_outs(repo, targets, scope)
        for name, group in cloud.by_remote(repo, outs, remote).items():
            rem = cloud.open_remote(repo, name)
            result.remotes.append(name)
            if rem.ignored_options:
                result.warnings.append(cloud.ignored_warning(rem))
            _fetch_one(repo, rem, group, jobs or rem.jobs, progress, result, fails)
        if fails.labels:
            first = fails.first.message if fails.first is not None else None
            raise TransferError("fetch", fails.labels, done=result.fetched, first_error=first)
    return result


def _fetch_one(
    repo: RepoContext, rem: Remote, outs: list[UsedOut], jobs: int, progress: Progress, result: FetchResult,
    fails: _Failures,
) -> None:
    odb = repo.odb
    missing: list[str] = []
    fetched_dirs: set[ObjectRef] = set()
    need = cloud.needed(odb, outs)
    if need.unknown_dirs:  # first the manifests, to learn which files the directories need
        dirs = {o.ref: o for o in need.unknown_dirs}
        there = rem.existing(list(dirs), jobs=jobs)
        missing += [f"{o.rel}/ ({o.oid})" for r, o in dirs.items() if r not in there and o.push]
        outcome = _download(rem, repo, there, jobs, progress, "manifests")
        fetched_dirs = set(outcome.done)
        result.fetched += len(outcome.done)
        fails.add(outcome, need)
        need = cloud.needed(odb, outs)
    in_cache = odb.exists_check(len(need.names))
    lacking = [r for r in need.names if not (odb.exists(r.oid, is_dir=True) if r.is_dir else in_cache(r.oid))]
    if lacking:
        progress.start(f"Checking remote '{rem.name}'", None)
        try:
            there = _on_remote(rem, need, lacking, fetched_dirs, jobs)
        finally:
            progress.done()
        missing += [need.label(r) for r in lacking if r not in there and r not in need.optional]
        outcome = _download(rem, repo, there, jobs, progress, "files", need.sizes)
        result.fetched += len(outcome.done)
        result.bytes += sum(need.sizes[r] if r in need.sizes else _size(repo, r) for r in outcome.done)
        gone = [(r, e) for r, e in outcome.failed if isinstance(e, failures.ObjectMissingError)]
        outcome.failed = [(r, e) for r, e in outcome.failed if not isinstance(e, failures.ObjectMissingError)]
        missing += [need.label(r) for r, _ in gone if r not in need.optional]
        fails.add(outcome, need)
    if missing:
        result.missing[rem.name] = sorted(set(missing))


def _on_remote(rem: Remote, need: cloud.Needed, lacking: list[ObjectRef], fetched_dirs: set[ObjectRef],
               jobs: int) -> set[ObjectRef]:
    """Which ``lacking`` objects to download: those listed by a manifest that is on the remote
    (it vouches for its files, see ``cloud.present_on_remote``) without asking, the rest after
    asking the remote."""
    wanted = set(lacking)
    dirs = [m for m, files in need.manifests.items() if m not in fetched_dirs and any(f in wanted for f in files)]
    present_dirs = fetched_dirs | (rem.existing(dirs, jobs=jobs) if dirs else set())
    vouched: set[ObjectRef] = set()
    for m in present_dirs:
        vouched.update(need.manifests.get(m, ()))
    ask = [r for r in lacking if r not in vouched]
    return {r for r in lacking if r in vouched} | rem.existing(ask, jobs=jobs)


def _download(rem: Remote, repo: RepoContext, refs: set[ObjectRef], jobs: int, progress: Progress,
              what: str, sizes: dict[ObjectRef, int] | None = None) -> transfer.Outcome[ObjectRef]:
    if not refs:
        return transfer.Outcome()
    if sizes and all(r in sizes for r in refs) and max(sizes[r] for r in refs) >= transfer.BYTES_PROGRESS_MIN:
        # a big file of known size: byte by byte, so it moves visibly
        progress.start(f"Fetching {what} from '{rem.name}'", sum(sizes[r] for r in refs), unit="bytes")
        try:
            return transfer.download(rem, repo.odb, refs, jobs=jobs, sizes=sizes, on_bytes=progress.advance)
        finally:
            progress.done()
    progress.start(f"Fetching {what} from '{rem.name}'", len(refs))
    try:
        return transfer.download(rem, repo.odb, refs, jobs=jobs, advance=progress.advance, sizes=sizes)
    finally:
        progress.done()


def _size(repo: RepoContext, ref: ObjectRef) -> int:
    try:
        return repo.odb.path(ref.oid, is_dir=ref.is_dir).stat().st_size
    except OSError:
        return 0
