"""``/api/registry``: ``pv model show`` (versions and stages) and ``pv model history`` of every
artifact, and the artifacts ``pv.yaml`` declares that have no version yet."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipever.repo import Repo

if TYPE_CHECKING:
    from pipever.registry.state import Artifact


def registry(repo: Repo) -> dict[str, Any]:
    from pipever.commands.registry.model import history, show
    from pipever.services.stages import load_pipeline

    if not repo.scm or not repo.git.has_commits():
        arts: dict[str, Artifact] = {}
    else:
        arts = show(repo)
    out: list[dict[str, Any]] = []
    for name, art in arts.items():
        out.append({"name": name, **art.to_dict(versions=True), "history": [e.to_dict() for e in history(repo, name)]})
    declared = load_pipeline(repo).artifacts
    for name in declared:
        if name not in arts:
            out.append({"name": name, "latest": None, "stages": {}, "deprecated": False, "versions": [], "history": []})
    for entry in out:
        spec = declared.get(entry["name"])
        entry.update(path=getattr(spec, "path", None), type=getattr(spec, "type", None), desc=getattr(spec, "desc", None))
    return {"artifacts": out}
