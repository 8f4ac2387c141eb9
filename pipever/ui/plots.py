"""``/api/plots``: the Vega-Lite specs ``pv plots diff`` makes for the chosen revisions
(workspace, branches, commits or experiments), overlaid, one chart per plot; and the image plots
(a plot whose file is a png, jpg, gif or svg, or such files in a plots folder) side by side, one image per revision, served by
``/api/plots/image``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from pipever.errors import PvError
from pipever.repo import Repo

MAX_REVISIONS = 12
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
               ".svg": "image/svg+xml"}


def image_type(path: str) -> str | None:
    dot = path.rfind(".")
    return IMAGE_TYPES.get(path[dot:].lower()) if dot != -1 else None


def plots(repo: Repo, revisions: Sequence[str]) -> dict[str, Any]:
    from pipever.commands.pipeline.plots import plots_diff, plots_show

    revs = list(dict.fromkeys(r for r in revisions if r))[:MAX_REVISIONS]
    if not revs and not (repo.scm and repo.git.has_commits()):
        revs = ["workspace"]  # nothing committed yet: there is no HEAD to compare with
    if revs == ["workspace"]:
        res = plots_show(repo)
    else:
        res = plots_diff(repo, revisions=revs)
        revs = revs if len(revs) > 1 else (revs or ["HEAD"]) + ["workspace"]  # as 'pv plots diff' does
    images = image_plots(repo, revs)
    shown = {i["path"] for i in images}
    return {"plots": [{"id": p.id, "template": p.template, "revisions": list(p.revisions), "spec": p.spec}
                      for p in res.plots],
            "images": images,
            "errors": [e for e in res.errors if not any(f"'{p}'" in e or f" {p}:" in e for p in shown)],
            "revisions": revs}


def _image_files(repo: Repo, rev: str) -> list[str]:
    from pipever.compare.plotdata import pipeline_plots
    from pipever.services.snapshot import Snapshot, resolve_rev

    snap = Snapshot(repo, resolve_rev(repo, rev))
    files: list[str] = []
    for config in pipeline_plots(snap.pipeline()):
        for f in config.files:
            files.extend(snap.files_under(f) or [f])  # a plots folder: the images in it, as 'pv plots'
    return [f for f in dict.fromkeys(files) if image_type(f)]


def image_plots(repo: Repo, revs: Sequence[str]) -> list[dict[str, Any]]:
    """Each image file a plot of these revisions names, with the revisions that have it."""
    found: dict[str, list[dict[str, str]]] = {}
    for rev in revs:
        for path in _image_files(repo, rev):
            if image(repo, rev, path) is not None:
                found.setdefault(path, []).append(
                    {"rev": rev, "url": f"/api/plots/image?rev={quote(rev, safe='')}&path={quote(path, safe='')}"})
    return [{"path": p, "revisions": r} for p, r in found.items()]


def image(repo: Repo, rev: str, path: str) -> tuple[bytes, str] | None:
    """The bytes and media type of an image plot at ``rev``; None unless a plot of that revision
    names ``path`` (no other file of the repository is served) and the file is there."""
    from pipever.services.snapshot import Snapshot, resolve_rev

    kind = image_type(path)
    if kind is None or path not in _image_files(repo, rev):
        return None
    try:
        data = Snapshot(repo, resolve_rev(repo, rev)).data(path)
    except PvError:  # not in the cache: the page shows it as missing
        return None
    return (data, kind) if data is not None else None
