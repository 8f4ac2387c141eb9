"""The pv exp show table: column titles, missing values, rounding."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipever.compare.exptable import exp_table


@dataclass
class R:
    name: str
    kind: str
    rev: str | None = None
    baseline: str | None = None
    created: int | None = None
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)


def test_columns_params_then_metrics_with_file_prefixes_only_where_needed() -> None:
    rows = [
        R("workspace", "workspace", baseline="a" * 40, params={"params.yaml": {"train": {"lr": 0.1}}},
          metrics={"m.json": {"acc": 0.123456789}}),
        R("e1", "experiment", rev="b" * 40, baseline="a" * 40, created=0,
          params={"params.yaml": {"train": {"lr": 0.3}}, "other.yaml": {"k": 1}}),
    ]
    headers, cells = exp_table(rows, precision=3)
    assert headers == ["Experiment", "Type", "Baseline", "Created", "train.lr", "other.yaml:k", "acc"]
    assert cells[0] == ["workspace", "workspace", "aaaaaaa", "-", "0.1", "-", "0.123"]
    assert cells[1][:3] == ["e1", "experiment", "aaaaaaa"] and cells[1][4:] == ["0.3", "1", "-"]


def test_metrics_of_several_files_are_prefixed_and_a_baseline_shows_its_own_commit() -> None:
    rows = [R("main", "baseline", rev="c" * 40, metrics={"a.json": {"x": 1}, "b.json": {"x": 2}})]
    headers, cells = exp_table(rows)
    assert headers[4:] == ["a.json:x", "b.json:x"] and cells[0][2] == "ccccccc" and cells[0][4:] == ["1", "2"]
