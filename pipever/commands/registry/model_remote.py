"""``pv model get NAME --repo URL``: a registered version of another repository's artifact.

The repository is cloned into a temporary directory (a partial clone: every commit and tag, file
contents fetched only when read), its registry read from the tags, and the version's bytes come
from that repository's default remote (its local remotes resolved against a local source), into
the caller's cache when run inside a pv repository. The clone is removed afterwards.
"""

from __future__ import annotations

from pathlib import Path

from pipever.commands.repos.extrepo import open_external
from pipever.commands.registry.model_get import GetResult, get
from pipever.services.progress import NO_PROGRESS, Progress


def get_from_repo(url: str, name: str, *, version: str | None = None, stage: str | None = None,
                  out: str | None = None, force: bool = False, cache_dir: Path | None = None,
                  progress: Progress = NO_PROGRESS) -> GetResult:
    with open_external(url, cache_dir=cache_dir, history=True) as ext:
        return get(ext.repo, name, version=version, stage=stage, out=out, force=force, progress=progress)
