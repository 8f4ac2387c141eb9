"""``/api/registry``: ``pv model show`` (versions and stages) and ``pv model history`` of every
artifact, and the artifacts ``pv.yaml`` declares that have no version yet."""

from __future__ import annotations

from typing import Any

from pipever.repo import Repo


def registry(repo: Repo) -> dict[str, Any]:
    from pipever.ops.model import history, show
    from pipever.ops.stages import load_pipeline

    if not repo.scm or not repo.git.has_commits():
        arts = {}
    else:
        arts = show(repo)
    out = []
    for name, art in arts.items():
        out.append({"name": name, **art.to_dict(versions=True), "history": [e.to_dict() for e in history(repo, name)]})
    declared = load_pipeline(repo).artifacts
    for name, decl in declared.items():
        if name not in arts:
            out.append({"name": name, "latest": None, "stages": {}, "deprecated": False, "versions": [], "history": []})
    for entry in out:
        decl = declared.get(entry["name"])
        entry["path"] = getattr(decl, "path", None)
        entry["type"] = getattr(decl, "type", None)
        entry["desc"] = getattr(decl, "desc", None)
    return {"artifacts": out}
