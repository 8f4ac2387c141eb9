"""Registry tag names: parsing and formatting in GTO's format (see the package docstring).

The grammar is GTO's ``tag_re``::

    ARTIFACT ( (#STAGE | @vSEMVER) !? | @deprecated | @created ) (#COUNTER)?

where ``!`` cancels (unassign / deregister). Tags that do not match are not registry tags and are
ignored; so are lightweight tags (GTO skips them too: they carry no author, time or message).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pipever.registry.names import GTO_FULLNAME, GTO_NAME
from pipever.registry.semver import PATTERN as SEMVER

_TAG_RE = re.compile(
    rf"(?P<artifact>{GTO_FULLNAME})"
    rf"(?:(?:#(?P<stage>{GTO_NAME})|@(?P<version>v{SEMVER}))(?P<cancel>!?)|@(?P<special>deprecated|created))"
    r"(?:#(?P<counter>[0-9]+))?"
)
COUNT_DELIMITER = "#"


@dataclass(frozen=True)
class TagRef:
    """A Git tag as the registry reads it (``Git.list_tags`` makes them)."""

    name: str
    commit: str  # the commit it points to (peeled)
    annotated: bool
    tagger: str = ""
    email: str = ""
    time: int = 0  # tagger date, seconds since the epoch (0 for lightweight tags)
    date: str = ""  # tagger date, ISO 8601 with the tagger's offset
    message: str = ""


class Action(str, enum.Enum):
    CREATE = "creation"
    DEPRECATE = "deprecation"
    REGISTER = "registration"
    DEREGISTER = "deregistration"
    ASSIGN = "assignment"
    UNASSIGN = "unassignment"


@dataclass(frozen=True)
class TagName:
    artifact: str
    action: Action
    version: str | None = None  # as written in the tag, with its 'v'
    stage: str | None = None
    counter: int | None = None


def parse(name: str) -> TagName | None:
    """The registry meaning of a tag name; None for other tags."""
    m = _TAG_RE.fullmatch(name)
    if m is None:
        return None
    counter = int(m["counter"]) if m["counter"] is not None else None
    artifact = m["artifact"].replace("=", ":")  # GTO writes 'dir:name' as 'dir=name' in tags
    cancel = m["cancel"] == "!"
    if m["stage"] is not None:
        action = Action.UNASSIGN if cancel else Action.ASSIGN
        return TagName(artifact, action, stage=m["stage"], counter=counter)
    if m["version"] is not None:
        action = Action.DEREGISTER if cancel else Action.REGISTER
        return TagName(artifact, action, version=m["version"], counter=counter)
    action = Action.DEPRECATE if m["special"] == "deprecated" else Action.CREATE
    return TagName(artifact, action, counter=counter)


def _base(t: TagName) -> str:
    art = t.artifact.replace(":", "=")
    if t.action is Action.REGISTER:
        return f"{art}@{t.version}"
    if t.action is Action.DEREGISTER:
        return f"{art}@{t.version}!"
    if t.action is Action.ASSIGN:
        return f"{art}#{t.stage}"
    if t.action is Action.UNASSIGN:
        return f"{art}#{t.stage}!"
    if t.action is Action.DEPRECATE:
        return f"{art}@deprecated"
    return f"{art}@created"


def format(t: TagName) -> str:  # noqa: A001 - mirrors parse()
    base = _base(t)
    return base if t.counter is None else f"{base}{COUNT_DELIMITER}{t.counter}"


def next_counter(existing: Iterable[str], artifact: str) -> int:
    """GTO's counter: one more than the highest counter among ``artifact``'s tags (1 when none)."""
    top = 0
    for name in existing:
        parsed = parse(name)
        if parsed is not None and parsed.artifact == artifact and parsed.counter is not None:
            top = max(top, parsed.counter)
    return top + 1


def name_for(action: Action, artifact: str, *, existing: Iterable[str], version: str | None = None,
             stage: str | None = None, simple: bool) -> str:
    """The tag to create. ``simple`` omits the counter (GTO's default for register, deregister and
    deprecate) unless that name is taken, in which case the counter form is used."""
    names = set(existing)
    plain = format(TagName(artifact, action, version=version, stage=stage))
    if simple and plain not in names:
        return plain
    return format(TagName(artifact, action, version=version, stage=stage, counter=next_counter(names, artifact)))
