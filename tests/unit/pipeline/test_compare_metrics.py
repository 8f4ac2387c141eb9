"""Metrics diff rows, absolute and percent change, cell formatting."""

from __future__ import annotations

from typing import Any

import pytest

from pipever.compare.metrics import MetricRow, change, diff_metrics, fmt_change, fmt_value
from pipever.pipeline.params import MISSING


@pytest.mark.parametrize(("old", "new", "expected"), [
    (0.763981, 0.801807, (0.037826, 4.95117)),
    (0.1 + 0.2, 0.3, (0.0, 0.0)),  # no binary noise
    (4, 6, (2, 50.0)),
    (-2, -1, (1, 50.0)),  # relative to |old|
    (0, 3, (3, None)),
    ("a", "b", (None, None)),
    (True, 1, (None, None)),  # booleans are not numbers
])
def test_change(old: object, new: object, expected: tuple[object, object]) -> None:
    assert change(old, new) == expected


def test_diff_rows_changed_added_deleted_and_all() -> None:
    old: dict[str, dict[str, Any]] = {"m.json": {"acc": 0.5, "same": 1, "gone": 2}, "old.json": {"x": 1}}
    new: dict[str, dict[str, Any]] = {"m.json": {"acc": 0.75, "same": 1, "new": "s"}}
    assert diff_metrics(old, new) == [
        MetricRow("m.json", "acc", 0.5, 0.75, 0.25, 50.0),
        MetricRow("m.json", "gone", 2, MISSING),
        MetricRow("m.json", "new", MISSING, "s"),
        MetricRow("old.json", "x", 1, MISSING),
    ]
    rows = diff_metrics(old, new, include_unchanged=True)
    assert MetricRow("m.json", "same", 1, 1, 0, 0.0) in rows and len(rows) == 5


def test_int_and_float_or_bool_differ() -> None:
    assert [r.key for r in diff_metrics({"f": {"a": 1, "b": 1}}, {"f": {"a": 1.0, "b": True}})] == ["a", "b"]


@pytest.mark.parametrize(("value", "precision", "text"), [
    (0.7639812, 5, "0.76398"), (0.5, 5, "0.5"), (3, 5, "3"), (1 / 3, None, repr(1 / 3)), ("x", 5, "x"),
    (True, 5, "true"), (None, 5, "null"), ([1, 2], 5, "[1, 2]"), (MISSING, 5, "-"), (1e-9, 5, "0.0"),
])
def test_fmt_value(value: object, precision: int | None, text: str) -> None:
    assert fmt_value(value, precision) == text


@pytest.mark.parametrize(("old", "new", "text"), [
    (0.763981, 0.801807, "+0.03783 (+4.95%)"),
    (0.5, 0.4, "-0.1 (-20.00%)"),
    (1, 1, "0 (0.00%)"),
    (0, 4, "+4"),
    (1.0, 1.000000001, "0 (0.00%)"),
    ("a", "b", "-"),
])
def test_fmt_change(old: object, new: object, text: str) -> None:
    d, pct = change(old, new)
    assert fmt_change(MetricRow("f", "k", old, new, d, pct)) == text


def test_fmt_change_of_missing_side() -> None:
    assert fmt_change(MetricRow("f", "k", MISSING, 1)) == "-"
