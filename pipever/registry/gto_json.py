"""``pv model show/history --json`` in GTO's JSON shape (``gto show --json``, ``gto show NAME
--json``, ``gto history NAME --json``), so scripts written for GTO read pv's output. pv's own
fields stay beside GTO's where the names differ (``latest``, ``stages``, ``deprecated`` in the
registry view; ``tag``, ``time`` in events). Pure: built from ``registry.state`` values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipever.registry.state import Artifact, Event, Version
from pipever.registry.tags import Action

# GTO's event priorities (its order among events of the same second)
PRIORITY = {Action.CREATE: 1, Action.DEPRECATE: 2, Action.REGISTER: 3, Action.DEREGISTER: 4,
            Action.ASSIGN: 5, Action.UNASSIGN: 6}
ADDITION = frozenset({Action.CREATE, Action.REGISTER, Action.ASSIGN})


def registry(arts: Mapping[str, Artifact]) -> dict[str, dict[str, Any]]:
    """``gto show --json``: per artifact its latest version and each stage's holder (every stage
    of the registry, None where this artifact has no holder)."""
    stages = sorted({s for a in arts.values() for s in a.stages})
    out: dict[str, dict[str, Any]] = {}
    for name, art in arts.items():
        latest = art.latest
        out[name] = {
            "version": latest.version if latest else None,
            "stage": {s: art.stages.get(s) for s in stages},
            "registered": any(v.registered for v in art.versions),
            "active": not art.deprecated,
            # pv's own view
            "latest": latest.version if latest else None, "stages": dict(art.stages), "deprecated": art.deprecated,
        }
    return out


def _event(e: Event, *, version: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "priority": PRIORITY[e.action], "addition": e.action in ADDITION, "artifact": e.artifact,
        "created_at": e.date, "author": e.author, "author_email": e.author_email, "message": e.message,
        "commit_hexsha": e.commit, "tag": e.tag, "version": version or e.version,
    }
    if e.stage is not None:
        out["stage"] = e.stage
        out["event"] = e.action.value
    return out


def _stage(art: Artifact, v: Version, stage: str) -> dict[str, Any]:
    events = [e for e in art.events if e.stage == stage and e.version == v.version]
    assigns = [e for e in events if e.action is Action.ASSIGN]
    last = events[-1]
    return {
        "artifact": art.name, "commit_hexsha": v.commit, "version": v.version, "stage": stage,
        "assignments": [_event(e) for e in assigns],
        "unassignments": [_event(e) for e in events if e.action is Action.UNASSIGN],
        "is_active": True, "activated_at": assigns[-1].date if assigns else last.date,
        "created_at": last.date, "author": last.author, "author_email": last.author_email,
        "message": last.message, "ref": last.tag,
    }


def versions(art: Artifact) -> list[dict[str, Any]]:
    """``gto show NAME --json``: one entry per version with its registration events and the
    stages it holds now; pv's ``commit``, ``registered``, ``active``, ``tag`` ride along."""
    out = []
    for v in art.versions:
        regs = [e for e in art.events if e.stage is None and e.version == v.version
                and e.action in (Action.REGISTER, Action.DEREGISTER)]
        out.append({
            "artifact": art.name, "commit_hexsha": v.commit, "version": v.version, "enrichments": [],
            "registrations": [_event(e) for e in regs if e.action is Action.REGISTER],
            "deregistrations": [_event(e) for e in regs if e.action is Action.DEREGISTER],
            "stages": [_stage(art, v, s) for s in v.stages],
            "is_active": v.active, "activated_at": v.event.date, "created_at": v.event.date,
            "author": v.event.author, "author_email": v.event.author_email, "message": v.event.message,
            "ref": v.event.tag, "discovered": not v.registered,
            # pv's own view
            "commit": v.commit, "registered": v.registered, "active": v.active,
            "tag": v.event.tag if v.registered else None, "stage_names": list(v.stages),
        })
    return out


def history(events: list[Event]) -> list[dict[str, Any]]:
    """``gto history NAME --json``: every event, newest first, with GTO's keys and pv's."""
    return [{
        "timestamp": e.date, "artifact": e.artifact, "event": e.action.value, "priority": PRIORITY[e.action],
        "version": e.version, "stage": e.stage, "commit": e.commit, "author": e.author,
        "author_email": e.author_email, "message": e.message, "ref": e.tag,
        "tag": e.tag, "time": e.date,  # pv's names
    } for e in events]
