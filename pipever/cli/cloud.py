"""``pv status -c``: the cache compared with a remote (called by the ``status`` command)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipever.cli import render

if TYPE_CHECKING:
    from pipever.repo import Repo


def cloud_status(
    repo: Repo, targets: list[str], *, remote: str | None, as_json: bool, quiet: bool, jobs: int,
    all_branches: bool, all_tags: bool, all_commits: bool,
) -> int:
    from pipever.commands.remotes.cloud_status import cloud_status as do_status
    from pipever.services.progress import NO_PROGRESS

    res = do_status(repo, targets, remote=remote, jobs=jobs or None, all_branches=all_branches, all_tags=all_tags,
                    all_commits=all_commits, progress=NO_PROGRESS if quiet else render.progress())
    if quiet:
        return 0 if res.in_sync else 3
    for w in res.warnings:
        render.warn(w)
    if as_json:
        render.json_out(res.entries)
        return 0
    if res.in_sync:
        names = ", ".join(f"'{r}'" for r in res.remotes) or "the remote"
        render.out(f"Cache and remote {names} are in sync." if res.remotes else "Cache and remotes are in sync.")
        return 0
    for path, state in res.entries.items():
        render.out(f"\t{(state + ':').ljust(20)}{path}")
    return 0
