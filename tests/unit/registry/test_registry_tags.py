"""Tag names in GTO's format: parsing, formatting, counters."""

from __future__ import annotations

import pytest

from pipever.registry import tags
from pipever.registry.tags import Action, TagName


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("model@v1.2.3", TagName("model", Action.REGISTER, version="v1.2.3")),
        ("model@v1.2.3-rc.1+build.5", TagName("model", Action.REGISTER, version="v1.2.3-rc.1+build.5")),
        ("model@v1.2.3!", TagName("model", Action.DEREGISTER, version="v1.2.3")),
        ("model@v1.2.3!#4", TagName("model", Action.DEREGISTER, version="v1.2.3", counter=4)),
        ("model#prod#3", TagName("model", Action.ASSIGN, stage="prod", counter=3)),
        ("model#prod", TagName("model", Action.ASSIGN, stage="prod")),
        ("model#prod!#7", TagName("model", Action.UNASSIGN, stage="prod", counter=7)),
        ("model@deprecated", TagName("model", Action.DEPRECATE)),
        ("model@deprecated#9", TagName("model", Action.DEPRECATE, counter=9)),
        ("churn-2@v0.0.1", TagName("churn-2", Action.REGISTER, version="v0.0.1")),
        ("models/dir=nn@v1.0.0", TagName("models/dir:nn", Action.REGISTER, version="v1.0.0")),
    ],
)
def test_parse_gto_tags(name: str, expected: TagName) -> None:
    assert tags.parse(name) == expected
    assert tags.format(expected) == name


@pytest.mark.parametrize(
    "name", ["v1.0.0", "release-1", "model@1.0.0", "model@v1.0", "Model@v1.0.0", "model#prod#x", "model@v01.0.0",
             "model#Prod#1", "-model@v1.0.0", "model@latest", "model#prod#1#2"],
)
def test_other_tags_are_not_registry_tags(name: str) -> None:
    assert tags.parse(name) is None


def test_counter_is_per_artifact_across_stages_and_actions() -> None:
    existing = ["model@v1.0.0", "model#prod#1", "model#staging#2", "model#prod!#3", "other#prod#10"]
    assert tags.next_counter(existing, "model") == 4
    assert tags.next_counter(existing, "other") == 11
    assert tags.next_counter(existing, "new") == 1


def test_name_for_assign_always_counts() -> None:
    assert tags.name_for(Action.ASSIGN, "model", existing=["model#prod#1"], stage="prod", simple=False) == "model#prod#2"


def test_name_for_simple_falls_back_to_counter_when_taken() -> None:
    assert tags.name_for(Action.DEPRECATE, "m", existing=[], simple=True) == "m@deprecated"
    assert tags.name_for(Action.DEPRECATE, "m", existing=["m@deprecated", "m#prod#2"], simple=True) == "m@deprecated#3"
    assert tags.name_for(Action.DEREGISTER, "m", existing=[], version="v1.0.0", simple=True) == "m@v1.0.0!"
