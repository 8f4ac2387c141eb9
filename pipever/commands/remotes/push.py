"""``pv push``: upload the objects the selected outs need and the remote lacks.

The remote is asked in bulk what it has; only what it lacks is sent, files before the
directory manifests that list them. A failure of some objects keeps the others: the error
(TransferError) lists what failed after everything else finished, and a rerun sends only what is
still missing. Objects that are neither in the cache nor on the remote are reported in
``missing`` (the CLI turns them into an error after the summary).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from pipever.context import RepoContext
from pipever.errors import CorruptObjectError, TransferError
from pipever.objects.odb import ObjectDB, ObjectRef
from pipever.remote import transfer
from pipever.remote.base import Remote
from pipever.services import cloud
from pipever.services.progress import NO_PROGRESS, Progress
from pipever.services.used import UsedOut


@dataclass
class PushResult:
    pushed: int = 0  # objects uploaded
    bytes: int = 0
    present: int = 0  # objects the remote already had
    remotes: list[str] = field(default_factory=list)
    missing: dict[str, list[str]] = field(default_factory=dict)  # remote -> objects nowhere to be found
    warnings: list[str] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        return self.pushed == 0


def push(
    repo: RepoContext, targets: Sequence[str] = (), *, remote: str | None = None, jobs: int | None = None,
    all_branches: bool = False, all_tags: bool = False, all_commits: bool = False,
    revs: Sequence[str] = (), workspace: bool = True, progress: Progress = NO_PROGRESS, with_deps: bool = False,
) -> PushResult:
    """Push the objects of the workspace's outs (``workspace``), of ``revs`` and of the
    revisions ``-a/-T/-A`` select, limited to ``targets``; ``remote`` overrides every out's
    remote. Outs with ``push: false`` are skipped."""
    scope = cloud.Scope(all_branches, all_tags, all_commits, tuple(revs), workspace)
    result = PushResult()
    if targets:
        from pipever.services.stage_targets import data_targets

        targets = data_targets(repo, targets, with_deps=with_deps)
    with repo.locked():
        outs = [o for o in cloud.select_outs(repo, targets, scope) if o.push]
        failed: list[str] = []
        first_error = None
        for name, group in cloud.by_remote(repo, outs, remote).items():
            rem = cloud.open_remote(repo, name)
            result.remotes.append(name)
            if rem.ignored_options:
                result.warnings.append(cloud.ignored_warning(rem))
            errs = _push_one(repo, rem, group, jobs or rem.jobs, progress, result)
            if errs:
                failed += errs[0]
                first_error = first_error or errs[1]
        if failed:
            raise TransferError("push", failed, done=result.pushed, first_error=first_error)
    return result


def _push_one(
    repo: RepoContext, rem: Remote, outs: list[UsedOut], jobs: int, progress: Progress, result: PushResult,
) -> tuple[list[str], str] | None:
    """Push to one remote; (failed labels, first error) when something did not transfer."""
    odb = repo.odb
    need = cloud.needed(odb, outs)
    wanted = set(need.names)  # (a directory whose manifest is not in the cache is fine if the remote has it)
    progress.start(f"Checking remote '{rem.name}'", None)
    try:
        on_remote = cloud.present_on_remote(rem, need, jobs=jobs)
    finally:
        progress.done()
    result.present += len(on_remote)
    lacking = wanted - on_remote
    # sizes as the pointers and manifests record them (a cache object of another size is
    # corrupt, and is caught as it is read: see below); existence by listing, for many
    size_of: dict[ObjectRef, int] = {}
    in_cache = odb.exists_check(len(lacking))
    for r in lacking:
        recorded = need.sizes.get(r)
        if recorded is not None and not r.is_dir:
            if in_cache(r.oid):
                size_of[r] = recorded
            continue
        with contextlib.suppress(OSError):
            size_of[r] = os.stat(odb.strpath(r.oid, is_dir=r.is_dir)).st_size
    missing = sorted(need.label(r) for r in lacking if r not in size_of)
    if missing:
        result.missing[rem.name] = missing
    sendable = set(size_of)
    # never upload damage: the remote would keep it for good. Small files bound for packs are
    # verified as they are read into the pack (a bad one is left out there): no second read
    threshold = rem.pack_threshold if rem.packed else 0
    streamed = {r for r in sendable if not r.is_dir and size_of[r] < threshold}
    corrupt = _corrupt(repo, sendable - streamed)
    sendable -= set(corrupt)
    files = [r for r in sendable if not r.is_dir]
    manifests = {r: need.manifests.get(r, []) for r in sendable if r.is_dir}
    if not files and not manifests:
        return ([need.label(r) for r in corrupt], corrupt_message(corrupt)) if corrupt else None
    sizes = [size_of[r] for r in [*files, *manifests]]
    by_bytes = max(sizes, default=0) >= transfer.BYTES_PROGRESS_MIN  # a big file: show its bytes move
    if by_bytes:
        progress.start(f"Pushing to '{rem.name}'", sum(sizes), unit="bytes")
    else:
        progress.start(f"Pushing to '{rem.name}'", len(files) + len(manifests))
    try:
        outcome = transfer.upload(rem, odb, files, manifests, present=on_remote, jobs=jobs,
                                  advance=None if by_bytes else progress.advance,
                                  on_bytes=progress.advance if by_bytes else None, known_sizes=size_of)
    finally:
        progress.done()
    result.pushed += len(outcome.done)
    result.bytes += sum(size_of[r] for r in outcome.done)
    corrupt += [r for r, err in outcome.failed if isinstance(err, CorruptObjectError)]
    outcome.failed = [(r, err) for r, err in outcome.failed if not isinstance(err, CorruptObjectError)]
    if not outcome.failed and not outcome.not_attempted and not corrupt:
        return None
    failed = [need.label(r) for r in corrupt] + [need.label(r) for r, _ in outcome.failed]
    failed += [need.label(r) for r in outcome.not_attempted]
    first = outcome.fatal or (outcome.failed[0][1] if outcome.failed else None)
    return failed, corrupt_message(corrupt) if corrupt else (first.message if first is not None else "not attempted")


def _corrupt(repo: RepoContext, refs: set[ObjectRef]) -> list[ObjectRef]:
    """Objects about to be sent that are corrupt (or vanished since they were listed)."""
    return repo.odb.check_many(sorted(refs, key=lambda r: r.relpath), repo.state)


def corrupt_message(refs: list[ObjectRef]) -> str:
    return f"{len(refs)} corrupt in the cache, not uploaded; run 'pv fsck --repair'"
