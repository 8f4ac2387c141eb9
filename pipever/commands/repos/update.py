"""``pv update``: refresh imports from repositories (``imports.update``) and from URLs
(``import_url.update_url``, or with ``--to-remote`` ``import_url_remote.update_url_to_remote``)."""

from __future__ import annotations

from pipever.commands.repos.import_url import UrlImported, update_url, url_source
from pipever.commands.repos.import_url_remote import update_url_to_remote
from pipever.commands.repos.imports import Imported, ImportSource, UpdateResult, _stage
from pipever.commands.repos.imports import update as update_repos
from pipever.context import RepoContext
from pipever.errors import TargetError
from pipever.services import cloud, tracked as trk


def update(repo: RepoContext, targets: list[str], *, rev: str | None = None, jobs: int | None = None,
           force: bool = False, to_remote: bool = False, remote: str | None = None) -> UpdateResult:
    """``pv update``: imports from repositories (``imports.update``) and from URLs (``rev`` does
    not apply to those), all of them when ``targets`` is empty. ``to_remote``: URL imports only,
    streamed to ``remote`` without a cache or workspace copy (``import_url_remote``)."""
    chosen = {t.pointer.rel: t.pointer for t in trk.select(repo, targets)}
    urls = {rel: p for rel, p in chosen.items() if url_source(p) is not None}
    others = [rel for rel in chosen if rel not in urls]
    rem = None
    if to_remote:
        if targets and others:
            raise TargetError(f"'{others[0]}' is not imported from a URL; 'pv update --to-remote' updates "
                              "URL imports only", hint=f"run 'pv update {others[0]}' without --to-remote")
        rem = cloud.open_remote(repo, remote)
        others = []
    if (targets or to_remote) and not others:
        result = UpdateResult()
    else:
        result = update_repos(repo, others if targets else [], rev=rev, jobs=jobs, force=force)
    updated: list[UrlImported] = []
    try:
        for rel, pointer in sorted(urls.items()):
            if rem is not None:
                got = update_url_to_remote(repo, rel, pointer, rem)
            else:
                got = update_url(repo, rel, pointer, force=force)
            if got is None:
                result.unchanged.append(rel)
            else:
                updated.append(got)
                tag = got.source.etag or got.source.version_id or got.source.checksum or ""
                result.updated.append(Imported(got.pointer, got.rel, got.size, got.nfiles,
                                               ImportSource(got.source.url, got.source.url, None, tag.strip('"'))))
    finally:
        result.staged = sorted(set(result.staged) | set(_stage(repo, [u.pointer for u in updated],
                                                                [u.rel for u in updated])))
    return result


__all__ = ["update"]
