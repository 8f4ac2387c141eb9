"""Semantic versions as GTO writes them in tags: ``v`` + ``MAJOR.MINOR.PATCH[-PRE][+BUILD]``.

Ordering follows semver 2.0.0 precedence (a pre-release sorts before its release, build metadata
is ignored), so ``v1.0.0-rc.1 < v1.0.0`` and ``v1.0.0+a`` equals ``v1.0.0+b``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from pipever.errors import RegistryError

_IDENT = r"(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
PATTERN = (
    r"(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    rf"(?:-(?P<pre>{_IDENT}(?:\.{_IDENT})*))?(?:\+(?P<build>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
_RE = re.compile(PATTERN)


class Bump(str, enum.Enum):
    MAJOR = "major"
    MINOR = "minor"
    PATCH = "patch"


@dataclass(frozen=True)
class SemVer:
    major: int
    minor: int
    patch: int
    pre: str | None = None
    build: str | None = None

    def __str__(self) -> str:
        text = f"v{self.major}.{self.minor}.{self.patch}"
        if self.pre:
            text += f"-{self.pre}"
        if self.build:
            text += f"+{self.build}"
        return text

    def key(self) -> tuple[object, ...]:
        """Sort key with semver precedence (build metadata ignored)."""
        if self.pre is None:
            pre: tuple[object, ...] = ((1,),)
        else:
            pre = ((0,), *((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.pre.split(".")))
        return (self.major, self.minor, self.patch, pre)

    def bump(self, part: Bump) -> SemVer:
        if part is Bump.MAJOR:
            return SemVer(self.major + 1, 0, 0)
        if part is Bump.MINOR:
            return SemVer(self.major, self.minor + 1, 0)
        if self.pre is not None:  # v1.0.1-rc.1 bumps to its release, as semver tools do
            return SemVer(self.major, self.minor, self.patch)
        return SemVer(self.major, self.minor, self.patch + 1)


ZERO = SemVer(0, 0, 0)


def try_parse(text: str) -> SemVer | None:
    """Parse ``vX.Y.Z`` (the ``v`` is optional); None when it is not a semantic version."""
    body = text[1:] if text.startswith("v") else text
    m = _RE.fullmatch(body)
    if m is None:
        return None
    return SemVer(int(m["major"]), int(m["minor"]), int(m["patch"]), m["pre"], m["build"])


def parse(text: str) -> SemVer:
    version = try_parse(text)
    if version is None:
        raise RegistryError(
            f"'{text}' is not a semantic version",
            hint="use vMAJOR.MINOR.PATCH, e.g. v1.0.0 or v1.2.0-rc.1",
        )
    return version
