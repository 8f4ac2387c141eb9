"""Registry state computed from tags (no Git): versions, stages, rollbacks, deprecation."""

from __future__ import annotations

from pipever.registry.tags import TagRef
from pipever.registry import state

C1, C2, C3 = "1" * 40, "2" * 40, "3" * 40


class Tags:
    """Builds TagRefs with increasing times."""

    def __init__(self) -> None:
        self.refs: list[TagRef] = []
        self.t = 1_700_000_000

    def add(self, name: str, commit: str, *, same_second: bool = False, msg: str = "m") -> Tags:
        if not same_second:
            self.t += 1
        self.refs.append(TagRef(name, commit, True, "Ann", "ann@x", self.t, f"@{self.t}", msg))
        return self

    def state(self, name: str = "model") -> state.Artifact:
        return state.compute(self.refs)[name]


def test_versions_sorted_by_semver_and_latest() -> None:
    art = Tags().add("model@v1.0.0", C1).add("model@v1.10.0", C3).add("model@v1.2.0", C2).state()
    assert [v.version for v in art.versions] == ["v1.10.0", "v1.2.0", "v1.0.0"]
    assert art.latest is not None and art.latest.version == "v1.10.0"
    assert art.stages == {}


def test_assignment_goes_to_the_version_at_the_tagged_commit() -> None:
    art = Tags().add("model@v1.0.0", C1).add("model@v2.0.0", C2).add("model#prod#1", C1).state()
    assert art.stages == {"prod": "v1.0.0"}
    assert art.find("v1.0.0").stages == ("prod",)  # type: ignore[union-attr]


def test_latest_assignment_wins_and_rollback_chain() -> None:
    t = Tags().add("model@v1.0.0", C1).add("model@v2.0.0", C2).add("model@v3.0.0", C3)
    t.add("model#prod#1", C1).add("model#prod#2", C2).add("model#prod#3", C3)
    art = t.state()
    assert art.stages == {"prod": "v3.0.0"} and art.previous == {"prod": "v2.0.0"}
    t.add("model#prod!#4", C3).add("model#prod#5", C2, same_second=True)  # rollback 1
    art = t.state()
    assert art.stages == {"prod": "v2.0.0"} and art.previous == {"prod": "v1.0.0"}
    t.add("model#prod!#6", C2).add("model#prod#7", C1, same_second=True)  # rollback 2
    art = t.state()
    assert art.stages == {"prod": "v1.0.0"} and "prod" not in art.previous


def test_same_second_events_are_ordered_by_counter() -> None:
    t = Tags().add("model@v1.0.0", C1).add("model@v2.0.0", C2, same_second=True)
    t.add("model#prod#2", C2, same_second=True).add("model#prod#1", C1, same_second=True)
    assert t.state().stages == {"prod": "v2.0.0"}


def test_stages_are_independent() -> None:
    t = Tags().add("model@v1.0.0", C1).add("model@v2.0.0", C2)
    t.add("model#prod#1", C1).add("model#staging#2", C2)
    assert t.state().stages == {"prod": "v1.0.0", "staging": "v2.0.0"}


def test_deregistered_version_loses_its_stage_to_the_previous_holder() -> None:
    t = Tags().add("model@v1.0.0", C1).add("model@v2.0.0", C2)
    t.add("model#prod#1", C1).add("model#prod#2", C2).add("model@v2.0.0!", C2)
    art = t.state()
    assert art.stages == {"prod": "v1.0.0"}
    assert art.latest is not None and art.latest.version == "v1.0.0"
    assert not art.find("v2.0.0").active  # type: ignore[union-attr]


def test_deprecation_and_reactivation() -> None:
    t = Tags().add("model@v1.0.0", C1).add("model@deprecated", C1)
    assert t.state().deprecated
    t.add("model@v1.1.0", C2)
    assert not t.state().deprecated


def test_assignment_of_an_unregistered_commit_is_a_version_named_by_the_commit() -> None:
    art = Tags().add("model#prod#1", C1).state()
    assert art.stages == {"prod": C1}
    assert [(v.version, v.registered) for v in art.versions] == [(C1, False)]
    assert art.latest is None


def test_lightweight_and_foreign_tags_are_ignored() -> None:
    refs = [TagRef("model@v1.0.0", C1, False), TagRef("v1.0.0", C1, True, "a", "b", 1, "", "release")]
    assert state.compute(refs) == {}


def test_history_events_in_order_with_resolved_versions() -> None:
    t = Tags().add("model@v1.0.0", C1, msg="first").add("model#prod#1", C1, msg="ship")
    events = [e.to_dict() for e in t.state().events]
    assert [(e["event"], e["version"], e["stage"], e["tag"], e["message"]) for e in events] == [
        ("registration", "v1.0.0", None, "model@v1.0.0", "first"),
        ("assignment", "v1.0.0", "prod", "model#prod#1", "ship"),
    ]
    assert events[0]["author"] == "Ann" and events[0]["commit"] == C1
