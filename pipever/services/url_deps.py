"""URL deps of stages and URL imports, as the repository sees them (SPEC §8.1, §6).

A URL that lies under a configured remote's URL is read with that remote's options (credentials,
``endpoint_url``...), exactly as ``pv push`` would use them; any other URL with the backend's
defaults (environment credentials). Identities are asked once per URL and command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipever.context import RepoContext
from pipever.pipeline.lockfile import LockedUrl


def url_options(repo: RepoContext, url: str) -> dict[str, Any]:
    """Options of the remote whose URL ``url`` lies under (the longest match), else {}."""
    remotes = repo.config.merged.get("remote") or {}
    best: tuple[int, str] | None = None
    for name, section in remotes.items() if isinstance(remotes, dict) else ():
        base = section.get("url") if isinstance(section, dict) else None
        if not isinstance(base, str) or "://" not in base:
            continue
        base = base.rstrip("/")
        if (url == base or url.startswith(base + "/")) and (best is None or len(base) > best[0]):
            best = (len(base), name)
    if best is None:
        return {}
    from pipever.remote import options as remote_options, url as remote_url

    name = best[1]
    levels = {}
    for lvl in ("global", "repo", "local"):
        section = (repo.config.levels.get(lvl, {}).get("remote") or {}).get(name)
        levels[lvl] = dict(section) if isinstance(section, dict) else {}
    spec = remote_url.parse(str(remotes[name]["url"]), base_dir=str(repo.root))
    # as 'pv push' takes them (services.cloud.open_remote): unsafe options only from local/global
    opts, _ignored = remote_options.split_trusted(levels["repo"], levels["global"], levels["local"], spec.backend)
    return dict(opts)


class UrlProbe:
    """Identities of URLs for one command (each URL asked once)."""

    def __init__(self, repo: RepoContext) -> None:
        self.repo = repo
        self._known: dict[str, LockedUrl | None] = {}

    def identity(self, url: str) -> LockedUrl | None:
        if url not in self._known:
            from pipever.remote.urlfs import identity

            self._known[url] = identity(url, url_options(self.repo, url))
        return self._known[url]


def same(a: LockedUrl | None, b: LockedUrl | None) -> bool:
    """Whether two identities name the same content (the URL itself aside)."""
    if a is None or b is None:
        return a is b
    return (a.etag, a.version_id, a.checksum, a.size) == (b.etag, b.version_id, b.checksum, b.size)


def download(repo: RepoContext, url: str, dest: Path) -> None:
    from pipever.remote.urlfs import download as fetch

    fetch(url, dest, url_options(repo, url))
