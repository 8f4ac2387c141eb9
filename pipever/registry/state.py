"""Registry state from tags: a pure function of the list of tags, computed the way GTO does.

* Events are ordered by tag time, then counter. Registrations are read before assignments, and an
  assignment belongs to the version registered at the commit its tag points to (a commit with no
  registered version becomes a version named by its hexsha, as in GTO).
* A version is active while its last registration event is not a deregistration.
* A version holds a stage while its last event for that stage is an assignment; the stage belongs
  to the active holder assigned most recently. Rollback unassigns the current holder, which hands
  the stage back to the previous one: the same rule GTO uses to show stages.
* An artifact is deprecated when its newest event is a deprecation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from pipever.registry import semver, tags
from pipever.registry.tags import TagRef
from pipever.registry.tags import Action


@dataclass(frozen=True)
class Event:
    artifact: str
    action: Action
    tag: str
    commit: str
    time: int
    date: str
    author: str
    author_email: str
    message: str
    version: str | None = None  # for stage events: the version at the tagged commit
    stage: str | None = None
    counter: int | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "event": self.action.value, "artifact": self.artifact, "version": self.version, "stage": self.stage,
            "tag": self.tag, "commit": self.commit, "time": self.date, "author": self.author,
            "author_email": self.author_email, "message": self.message,
        }


@dataclass(frozen=True)
class Version:
    version: str
    commit: str
    registered: bool  # False: only seen through a stage tag at an unregistered commit
    active: bool  # False once deregistered
    event: Event  # the registration (or the first stage event of an unregistered version)
    stages: tuple[str, ...] = ()  # stages it holds now

    @property
    def semver(self) -> semver.SemVer | None:
        return semver.try_parse(self.version) if self.registered else None

    def to_dict(self) -> dict[str, object]:
        return {
            "version": self.version, "commit": self.commit, "registered": self.registered, "active": self.active,
            "stages": list(self.stages), "tag": self.event.tag if self.registered else None,
            "created_at": self.event.date, "author": self.event.author, "author_email": self.event.author_email,
            "message": self.event.message,
        }


@dataclass(frozen=True)
class Artifact:
    name: str
    versions: tuple[Version, ...]  # newest semver first; unregistered versions last
    stages: Mapping[str, str]  # stage -> version holding it now
    deprecated: bool
    events: tuple[Event, ...]  # oldest first
    previous: Mapping[str, str] = field(default_factory=dict)  # stage -> version a rollback returns to

    @property
    def latest(self) -> Version | None:
        return next((v for v in self.versions if v.registered and v.active), None)

    def to_dict(self, *, versions: bool = False) -> dict[str, object]:
        latest = self.latest
        out: dict[str, object] = {
            "latest": latest.version if latest else None, "stages": dict(self.stages), "deprecated": self.deprecated,
        }
        if versions:
            out["versions"] = [v.to_dict() for v in self.versions]
        return out

    def find(self, version: str) -> Version | None:
        return next((v for v in self.versions if v.version == version), None)

    def at_commit(self, commit: str) -> Version | None:
        found = [v for v in self.versions if v.commit == commit]
        return next((v for v in found if v.active), found[0] if found else None)


def events_from_tags(refs: Iterable[TagRef]) -> list[Event]:
    """Registry events of annotated tags, oldest first (lightweight and foreign tags ignored)."""
    out = []
    for ref in refs:
        parsed = tags.parse(ref.name)
        if parsed is None or not ref.annotated:
            continue
        out.append(Event(parsed.artifact, parsed.action, ref.name, ref.commit, ref.time, ref.date, ref.tagger,
                         ref.email, ref.message, parsed.version, parsed.stage, parsed.counter))
    return sorted(out, key=_order)


def _order(e: Event) -> tuple[int, int, str]:
    return (e.time, -1 if e.counter is None else e.counter, e.tag)


def compute(refs: Iterable[TagRef]) -> dict[str, Artifact]:
    grouped: dict[str, list[Event]] = {}
    for event in events_from_tags(refs):
        grouped.setdefault(event.artifact, []).append(event)
    return {name: _artifact(name, evs) for name, evs in sorted(grouped.items())}


def _artifact(name: str, events: list[Event]) -> Artifact:
    first: dict[str, Event] = {}  # version -> its (first) registration
    active: dict[str, bool] = {}
    for e in events:
        if e.action is Action.REGISTER and e.version is not None:
            first.setdefault(e.version, e)
            active[e.version] = True
        elif e.action is Action.DEREGISTER and e.version is not None:
            first.setdefault(e.version, e)
            active[e.version] = False
    by_commit: dict[str, str] = {}
    for v, e in first.items():
        if active[v] or e.commit not in by_commit:
            by_commit[e.commit] = v
    resolved: list[Event] = []
    holders: dict[tuple[str, str], tuple[bool, int]] = {}  # (stage, version) -> (assigned?, seq of last assign)
    unregistered: dict[str, Event] = {}
    for seq, e in enumerate(events):
        stage = e.stage
        if e.action in (Action.ASSIGN, Action.UNASSIGN) and stage is not None:
            version = by_commit.get(e.commit, e.commit)
            if version not in first:
                unregistered.setdefault(version, e)
            e = replace(e, version=version)
            assigned = e.action is Action.ASSIGN
            last = holders.get((stage, version), (False, -1))[1]
            holders[(stage, version)] = (assigned, seq if assigned else last)
        resolved.append(e)
    is_active = {**active, **{v: True for v in unregistered}}
    ranked: dict[str, list[tuple[int, str]]] = {}
    for (stage, version), (assigned, seq) in holders.items():
        if assigned and is_active[version]:
            ranked.setdefault(stage, []).append((seq, version))
    stages = {s: max(c)[1] for s, c in sorted(ranked.items())}
    previous = {s: sorted(c)[-2][1] for s, c in sorted(ranked.items()) if len(c) > 1}
    versions = [
        Version(v, e.commit, True, active[v], e, tuple(s for s, h in stages.items() if h == v))
        for v, e in first.items()
    ]
    versions.sort(key=lambda v: _semver_key(v.version), reverse=True)
    versions += [
        Version(v, e.commit, False, True, replace(e, version=v), tuple(s for s, h in stages.items() if h == v))
        for v, e in sorted(unregistered.items())
    ]
    deprecated = bool(events) and events[-1].action is Action.DEPRECATE
    return Artifact(name, tuple(versions), stages, deprecated, tuple(resolved), previous)


def _semver_key(text: str) -> tuple[object, ...]:
    parsed = semver.try_parse(text)
    return parsed.key() if parsed is not None else ()

