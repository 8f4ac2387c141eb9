"""``pv status -c``: compare the cache with a remote, in DVC's words.

For every object the selected outs need (files inside directories by their path, a directory's
manifest as ``dir/``): ``new`` -- in the cache, not on the remote (push it); ``deleted`` -- on
the remote, not in the cache (pull it); ``missing`` -- in neither. Objects in both are not
listed. Outs marked ``push: false`` are left out. A directory manifest that only the remote
has is fetched (verified) to learn the directory's files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pipever.services import cloud
from pipever.services.progress import NO_PROGRESS, Progress
from pipever.remote import transfer
from pipever.context import RepoContext

NEW, DELETED, MISSING = "new", "deleted", "missing"


@dataclass
class CloudStatusResult:
    remotes: list[str] = field(default_factory=list)
    entries: dict[str, str] = field(default_factory=dict)  # path -> new | deleted | missing
    warnings: list[str] = field(default_factory=list)

    @property
    def in_sync(self) -> bool:
        return not self.entries


def cloud_status(
    repo: RepoContext, targets: Sequence[str] = (), *, remote: str | None = None, jobs: int | None = None,
    all_branches: bool = False, all_tags: bool = False, all_commits: bool = False,
    progress: Progress = NO_PROGRESS,
) -> CloudStatusResult:
    scope = cloud.Scope(all_branches, all_tags, all_commits)
    result = CloudStatusResult()
    outs = [o for o in cloud.select_outs(repo, targets, scope) if o.push]
    odb = repo.odb
    for name, group in cloud.by_remote(repo, outs, remote).items():
        rem = cloud.open_remote(repo, name)
        result.remotes.append(name)
        if rem.ignored_options:
            result.warnings.append(cloud.ignored_warning(rem))
        n = jobs or rem.jobs
        progress.start(f"Checking remote '{name}'", None)
        try:
            need = cloud.needed(odb, group)
            if need.unknown_dirs:
                there = rem.existing([o.ref for o in need.unknown_dirs], jobs=n)
                transfer.download(rem, odb, there, jobs=n)  # a failed one shows as 'deleted'
                need = cloud.needed(odb, group)
            refs = list(need.names)
            on_remote = cloud.present_on_remote(rem, need, jobs=n)
        finally:
            progress.done()
        for ref in refs:
            state = _state(odb.exists(ref.oid, is_dir=ref.is_dir), ref in on_remote)
            if state is not None:
                result.entries[need.name(ref)] = state
    result.entries = dict(sorted(result.entries.items()))
    return result


def _state(local: bool, remote: bool) -> str | None:
    if local and remote:
        return None
    if local:
        return NEW
    return DELETED if remote else MISSING
