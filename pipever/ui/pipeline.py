"""``/api/pipeline`` and ``/api/live``: the stage graph with each stage's status.

A stage is ``up to date`` or ``stale`` as ``pv status`` says (``frozen`` when frozen); while a
``pv repro`` or ``pv exp run`` runs, the status file it writes (``pipeline.livestatus``) makes its
stages ``queued``/``running``, and a stage that failed in the last run is ``failed`` until it is
up to date again (a failed stage leaves no ``pv.lock`` entry to say so).
"""

from __future__ import annotations

from typing import Any

from pipever.pipeline import livestatus
from pipever.repo import Repo
from pipever.ui.layout import layout

UP_TO_DATE, STALE, FROZEN, RUNNING, FAILED, QUEUED = "up to date", "stale", "frozen", "running", "failed", "queued"


def live(repo: Repo) -> dict[str, Any]:
    """The status file as written by the last run (``{"runs": []}`` before any)."""
    return livestatus.read(repo.tmp_dir) or {"runs": [], "active": False, "updated": None}


def _latest(doc: dict[str, Any]) -> dict[str, tuple[dict[str, Any], str | None]]:
    """Each stage's live entry: one running or queued now (in any run, an experiment's too), else
    the last workspace run's (an experiment that failed says nothing about the workspace)."""
    found: dict[str, tuple[dict[str, Any], str | None]] = {}
    for run in doc["runs"]:
        experiment = run.get("experiment")
        for name, entry in (run.get("stages") or {}).items():
            if doc["active"] and entry.get("state") in (RUNNING, QUEUED):
                if found.get(name, ({}, None))[0].get("state") != RUNNING:
                    found[name] = (entry, experiment)
            elif experiment is None and name not in found:
                found[name] = (entry, None)
    return found


def pipeline(repo: Repo) -> dict[str, Any]:
    from pipever.commands.pipeline.dag import dag
    from pipever.services.stages import load_pipeline, stage_status

    pipe = load_pipeline(repo)
    graph = dag(repo)
    stale = stage_status(repo, [])
    doc = live(repo)
    latest = _latest(doc)
    stages = []
    for name in graph.nodes:
        stage = pipe.stages.get(name)
        status = FROZEN if stage is not None and stage.frozen else STALE if name in stale else UP_TO_DATE
        entry, experiment = latest.get(name, ({}, None))
        state = entry.get("state")
        if doc["active"] and (state == RUNNING or (state == QUEUED and status != FROZEN)):  # frozen: skipped
            status = state
        elif state == FAILED and status != UP_TO_DATE:
            status = FAILED
        stages.append({
            "name": name, "status": status, "reasons": stale.get(name, []),
            "experiment": experiment if state else None, "detail": entry.get("detail"),
            "cmd": list(stage.cmd) if stage else [], "desc": stage.desc if stage else None,
            "deps": list(stage.deps) if stage else [], "outs": [o.path for o in stage.all_outs] if stage else [],
        })
    return {"stages": stages, "edges": [list(e) for e in graph.edges], "layout": layout(graph.nodes, graph.edges),
            "live": {"active": doc["active"], "updated": doc.get("updated"), "command": doc.get("command"),
                     "runs": [{k: r.get(k) for k in ("experiment", "result", "started", "finished")}
                              for r in doc["runs"]]}}
