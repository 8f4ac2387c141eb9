"""``/api/plots``: the Vega-Lite specs ``pv plots diff`` makes for the chosen revisions
(workspace, branches, commits or experiments), overlaid, one chart per plot."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipever.repo import Repo

MAX_REVISIONS = 12


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
    return {"plots": [{"id": p.id, "template": p.template, "revisions": list(p.revisions), "spec": p.spec}
                      for p in res.plots],
            "errors": list(res.errors), "revisions": revs}
