"""``/api/data``, ``/api/data/remote``, ``/api/data/diff``: tracked files and directories with
their sizes and ``pv status`` state, whether the default remote has them (``pv status -c``), and
``pv diff`` between two revisions."""

from __future__ import annotations

from typing import Any

from pipever.repo import Repo

IN_SYNC = "up to date"


def data(repo: Repo) -> dict[str, Any]:
    from pipever.commands.data.status import status
    from pipever.services.used import outs_in_workspace

    changed: dict[str, str] = {}
    for items in status(repo, []).entries.values():
        for item in items:
            outs = item.get("changed outs") if isinstance(item, dict) else None
            if isinstance(outs, dict):
                changed.update({str(p): str(s) for p, s in outs.items()})
    files = [{"path": o.rel, "size": o.size, "dir": o.is_dir, "oid": str(o.oid), "status": changed.get(o.rel, IN_SYNC),
              "remote": o.remote, "push": o.push}
             for o in sorted(outs_in_workspace(repo), key=lambda o: o.rel)]
    return {"files": files, "total": sum(f["size"] or 0 for f in files)}


def remote(repo: Repo) -> dict[str, Any]:
    """Per tracked path: ``yes`` (the remote has every object), ``no`` (it lacks some; with
    ``missing`` how many) or ``not pushed`` (``push: false``)."""
    from pipever.commands.remotes.cloud_status import DELETED, cloud_status
    from pipever.services.used import outs_in_workspace

    res = cloud_status(repo)
    lacking = [p for p, state in res.entries.items() if state != DELETED]  # new or missing: not there
    paths: dict[str, dict[str, Any]] = {}
    for out in outs_in_workspace(repo):
        if not out.push:
            paths[out.rel] = {"state": "not pushed", "missing": 0}
            continue
        prefix = out.rel + "/"
        n = sum(1 for p in lacking if p == out.rel or (out.is_dir and p.startswith(prefix)))
        paths[out.rel] = {"state": "no" if n else "yes", "missing": n}
    return {"remotes": res.remotes, "paths": paths, "warnings": res.warnings}


def diff(repo: Repo, a: str | None, b: str | None) -> dict[str, Any]:
    from pipever.commands.data.diff import diff as do_diff

    res = do_diff(repo, a_rev=a or None, b_rev=None if b in (None, "", "workspace") else b)
    return {"a": res.a_rev, "b": res.b_rev or "workspace", "changes": res.changes.as_dict(),
            "unexpanded": list(res.unexpanded)}


def revisions(repo: Repo, limit: int = 50) -> dict[str, Any]:
    """Names to pick revisions by: branches, tags and recent commits (subject lines)."""
    if not repo.scm or not repo.git.has_commits():
        return {"refs": [], "commits": []}
    refs = [r for r in repo.git.run("for-each-ref", "--format=%(refname:short)", "refs/heads", "refs/tags").decode().split()
            if "#" not in r]  # registry stage tags name no revision anyone picks
    log = repo.git.run("log", f"-n{limit}", "--format=%H%x00%s", "HEAD", "--").decode("utf-8", "replace")
    commits = [dict(zip(("sha", "subject"), line.split("\0", 1))) for line in log.splitlines() if "\0" in line]
    return {"refs": refs, "commits": commits}
