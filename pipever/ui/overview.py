"""``/api/overview``: what the front page counts, each number from the command behind its view."""

from __future__ import annotations

from typing import Any

from pipever.repo import Repo


def overview(repo: Repo) -> dict[str, Any]:
    from pipever.compare.plotdata import pipeline_plots
    from pipever.commands.experiments.exp_refs import list_experiments
    from pipever.services.stages import load_pipeline, stage_status
    from pipever.services.used import outs_in_workspace

    pipe = load_pipeline(repo)
    committed = repo.scm and repo.git.has_commits()
    artifacts: dict[str, Any] = {}
    if committed:
        from pipever.commands.registry.model import show

        artifacts = show(repo)
    outs = outs_in_workspace(repo)
    stale = stage_status(repo, [])
    exps = sorted(list_experiments(repo), key=lambda e: (e.time, e.name), reverse=True)
    return {
        "root": str(repo.root), "name": repo.root.name,
        "branch": repo.git.current_branch() if committed else None,
        "head": repo.git.resolve("HEAD") if committed else None,
        "stages": len(pipe.stages), "stale": len(stale),
        "stage_status": [{"name": n, "status": "frozen" if s.frozen else "stale" if n in stale else "up to date"}
                         for n, s in pipe.stages.items()],
        "experiments": len(exps), "recent": [e.name for e in exps[:8]], "plots": len(pipeline_plots(pipe)),
        "tracked": len(outs), "size": sum(o.size or 0 for o in outs),
        "artifacts": len(set(artifacts) | set(pipe.artifacts)),
        "registry": [{"name": n, "latest": a.latest.version if a.latest else None, "stages": dict(a.stages)}
                     for n, a in artifacts.items()],
    }
