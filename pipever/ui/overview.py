"""``/api/overview``: what the front page counts, each number from the command behind its view."""

from __future__ import annotations

from typing import Any

from pipever.repo import Repo


def overview(repo: Repo) -> dict[str, Any]:
    from pipever.compare.plotdata import pipeline_plots
    from pipever.ops.exp_refs import list_experiments
    from pipever.ops.stages import load_pipeline, stage_status
    from pipever.ops.used import outs_in_workspace

    pipe = load_pipeline(repo)
    committed = repo.scm and repo.git.has_commits()
    artifacts: dict[str, Any] = {}
    if committed:
        from pipever.ops.model import show

        artifacts = show(repo)
    outs = outs_in_workspace(repo)
    return {
        "root": str(repo.root), "name": repo.root.name,
        "branch": repo.git.current_branch() if committed else None,
        "head": repo.git.resolve("HEAD") if committed else None,
        "stages": len(pipe.stages), "stale": len(stage_status(repo, [])),
        "experiments": len(list_experiments(repo)), "plots": len(pipeline_plots(pipe)),
        "tracked": len(outs), "size": sum(o.size or 0 for o in outs),
        "artifacts": len(set(artifacts) | set(pipe.artifacts)),
    }
