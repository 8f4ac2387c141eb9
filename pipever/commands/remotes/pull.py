"""``pv pull``: fetch, then checkout. What was fetched is checked out even when some objects
failed to transfer; the transfer error is raised after the checkout."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipever.errors import TransferError
from pipever.commands.data.checkout import CheckoutResult, checkout
from pipever.commands.remotes.fetch import FetchResult, fetch
from pipever.services.progress import NO_PROGRESS, Progress
from pipever.context import RepoContext


@dataclass
class PullResult:
    fetch: FetchResult
    checkout: CheckoutResult


def pull(
    repo: RepoContext, targets: Sequence[str] = (), *, remote: str | None = None, jobs: int | None = None,
    all_branches: bool = False, all_tags: bool = False, all_commits: bool = False, force: bool = False,
    progress: Progress = NO_PROGRESS, with_deps: bool = False,
) -> PullResult:
    failure: TransferError | None = None
    if targets:
        from pipever.services.stage_targets import data_targets

        targets = data_targets(repo, targets, with_deps=with_deps)
    try:
        fetched = fetch(repo, targets, remote=remote, jobs=jobs, all_branches=all_branches, all_tags=all_tags,
                        all_commits=all_commits, progress=progress)
    except TransferError as exc:
        failure, fetched = exc, FetchResult()
    done = checkout(repo, list(targets), force=force, progress=progress)
    if failure is not None:
        raise failure
    return PullResult(fetched, done)
