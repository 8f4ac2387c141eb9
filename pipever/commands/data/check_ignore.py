"""``pv check-ignore``: which ``.pvignore`` pattern (file, line) decides each path, like
``git check-ignore -v``."""

from __future__ import annotations

import os
from dataclasses import dataclass

from pipever.data.ignore import Match
from pipever.services import tracked as trk
from pipever.context import RepoContext


@dataclass(frozen=True)
class IgnoreCheck:
    arg: str  # the path as given
    rel: str  # repo-relative
    match: Match | None  # the last pattern matching it (None: no pattern matches)

    @property
    def ignored(self) -> bool:
        return self.match is not None and not self.match.negated


def check_ignore(repo: RepoContext, paths: list[str]) -> list[IgnoreCheck]:
    """Explain each path; a path is a directory when it is one on disk or is written with a
    trailing slash."""
    checks = []
    for arg in paths:
        rel = trk.resolve_target(repo, arg)
        is_dir = arg.endswith(("/", os.sep)) or os.path.isdir(repo.root / rel)
        checks.append(IgnoreCheck(arg, rel, repo.ignore.explain(rel, is_dir)))
    return checks
