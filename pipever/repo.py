"""``pipever.Repo``: the public programmatic entry (SPEC §12), a repository context with the verbs
as one-line delegations to the command functions. Top layer: nothing below imports it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipever.context import PV_DIR, RepoContext, find_root

if TYPE_CHECKING:
    from pipever.commands.data.add import AddResult
    from pipever.commands.data.checkout import CheckoutResult
    from pipever.commands.data.commit import CommitResult
    from pipever.commands.remotes.pull import PullResult
    from pipever.commands.remotes.push import PushResult
    from pipever.commands.pipeline.repro import Reporter, ReproResult
    from pipever.commands.data.status import StatusResult

__all__ = ["PV_DIR", "Repo", "find_root"]


class Repo(RepoContext):
    """A pipever repository rooted at ``root`` (the directory holding ``.pv``), with its verbs."""

    def __enter__(self) -> Repo:
        return self

    # -- verbs (SPEC §12): one-line delegations to the commands ------------------------------------
    def add(self, targets: list[str], *, use_glob: bool = False, jobs: int = 0) -> AddResult:
        from pipever.commands.data.add import add

        return add(self, targets, use_glob=use_glob, jobs=jobs)

    def status(self, targets: list[str] | None = None) -> StatusResult:
        from pipever.commands.data.status import status

        return status(self, targets or [])

    def checkout(self, targets: list[str] | None = None, *, force: bool = False, relink: bool = False) -> CheckoutResult:
        from pipever.commands.data.checkout import checkout

        return checkout(self, targets or [], force=force, relink=relink)

    def commit(self, targets: list[str] | None = None, *, force: bool = False) -> CommitResult:
        from pipever.commands.data.commit import commit

        return commit(self, targets or [], force=force)

    def push(self, targets: list[str] | None = None, *, remote: str | None = None, jobs: int | None = None,
             all_branches: bool = False, all_tags: bool = False, all_commits: bool = False) -> PushResult:
        from pipever.commands.remotes.push import push

        return push(self, targets or [], remote=remote, jobs=jobs, all_branches=all_branches,
                    all_tags=all_tags, all_commits=all_commits)

    def pull(self, targets: list[str] | None = None, *, remote: str | None = None, jobs: int | None = None,
             force: bool = False) -> PullResult:
        from pipever.commands.remotes.pull import pull

        return pull(self, targets or [], remote=remote, jobs=jobs, force=force)

    def repro(self, targets: list[str] | None = None, *, force: bool = False, single: bool = False,
              downstream: bool = False, dry: bool = False, jobs: int = 1, keep_going: bool = False,
              pull: bool = False, allow_missing: bool = False, run_cache: bool = True,
              reporter: Reporter | None = None) -> ReproResult:
        from pipever.commands.pipeline.repro import NULL_REPORTER, repro

        return repro(self, targets or [], force=force, single=single, downstream=downstream, dry=dry, jobs=jobs,
                     keep_going=keep_going, pull=pull, allow_missing=allow_missing, run_cache=run_cache,
                     reporter=reporter or NULL_REPORTER)
