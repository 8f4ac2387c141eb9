"""Semantic versions: parsing, precedence, bumping."""

from __future__ import annotations

import pytest

from pipever.errors import RegistryError
from pipever.registry import semver
from pipever.registry.semver import Bump, SemVer


def test_parse_with_and_without_v() -> None:
    assert semver.parse("v1.2.3") == SemVer(1, 2, 3)
    assert semver.parse("1.2.3") == SemVer(1, 2, 3)
    assert str(semver.parse("1.2.3-rc.1+b7")) == "v1.2.3-rc.1+b7"


@pytest.mark.parametrize("text", ["1.2", "v1", "v1.2.3.4", "01.2.3", "v1.2.3-", "latest", "", "v1.2.3-01"])
def test_invalid_versions_are_rejected_with_a_hint(text: str) -> None:
    assert semver.try_parse(text) is None
    with pytest.raises(RegistryError) as exc:
        semver.parse(text)
    assert exc.value.render() == f"'{text}' is not a semantic version — use vMAJOR.MINOR.PATCH, e.g. v1.0.0 or v1.2.0-rc.1"


def test_precedence_follows_semver() -> None:
    ordered = ["v0.9.9", "v1.0.0-alpha", "v1.0.0-alpha.1", "v1.0.0-alpha.beta", "v1.0.0-beta.2", "v1.0.0-beta.11",
               "v1.0.0-rc.1", "v1.0.0", "v1.0.1", "v1.10.0", "v2.0.0"]
    shuffled = list(reversed(ordered))
    assert sorted(shuffled, key=lambda t: semver.parse(t).key()) == ordered


def test_build_metadata_does_not_change_precedence() -> None:
    assert semver.parse("v1.0.0+a").key() == semver.parse("v1.0.0+b").key() == semver.parse("v1.0.0").key()


@pytest.mark.parametrize(
    ("start", "part", "expected"),
    [("v1.2.3", Bump.PATCH, "v1.2.4"), ("v1.2.3", Bump.MINOR, "v1.3.0"), ("v1.2.3", Bump.MAJOR, "v2.0.0"),
     ("v1.2.3-rc.1", Bump.PATCH, "v1.2.3"), ("v0.0.0", Bump.MAJOR, "v1.0.0"), ("v1.2.3+b", Bump.PATCH, "v1.2.4")],
)
def test_bump(start: str, part: Bump, expected: str) -> None:
    assert str(semver.parse(start).bump(part)) == expected
