"""Metrics diff rows and how numbers are shown: absolute and percent change, rounding.

A row compares one dotted key of one file between two snapshots (``{file: {key: value}}``, flat).
The change is computed for numbers only: ``diff = new - old`` and ``pct = diff / |old| * 100``
(None when ``old`` is 0). Floats are rounded to hide binary noise (``0.1 + 0.2 - 0.3``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipever.compare.values import is_number
from pipever.pipeline.params import MISSING, same_value

NOISE_DIGITS = 12  # digits kept in a float difference
PCT_DIGITS = 6


@dataclass(frozen=True)
class MetricRow:
    file: str
    key: str
    old: Any  # MISSING when the key is new
    new: Any  # MISSING when the key is gone
    diff: int | float | None = None  # new - old, numbers only
    pct: float | None = None  # percent change relative to |old|; None when old is 0 or not a number

    @property
    def changed(self) -> bool:
        return self.old is MISSING or self.new is MISSING or not same_value(self.old, self.new)


def change(old: Any, new: Any) -> tuple[int | float | None, float | None]:
    """(new - old, percent change) when both are numbers, else (None, None)."""
    if not (is_number(old) and is_number(new)):
        return None, None
    diff = new - old
    if isinstance(diff, float):
        diff = round(diff, NOISE_DIGITS)
    pct = round(diff / abs(old) * 100, PCT_DIGITS) if old else None
    return diff, pct


def diff_metrics(
    old: Mapping[str, Mapping[str, Any]], new: Mapping[str, Mapping[str, Any]], *, include_unchanged: bool = False
) -> list[MetricRow]:
    """Rows for every key whose value differs (all keys with ``include_unchanged``), by file then key."""
    rows: list[MetricRow] = []
    for file in sorted(set(old) | set(new)):
        a, b = old.get(file, {}), new.get(file, {})
        for key in sorted(set(a) | set(b)):
            va, vb = a.get(key, MISSING), b.get(key, MISSING)
            d, pct = change(va, vb) if va is not MISSING and vb is not MISSING else (None, None)
            row = MetricRow(file, key, va, vb, d, pct)
            if row.changed or include_unchanged:
                rows.append(row)
    return rows


def fmt_value(value: Any, precision: int | None = 5) -> str:
    """A value in a table cell: floats rounded to ``precision`` decimals (None: as they are),
    strings as they are, anything else as JSON; '-' when missing."""
    if value is MISSING:
        return "-"
    if isinstance(value, float):
        return repr(value if precision is None else round(value, precision))
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def fmt_change(row: MetricRow, precision: int = 5) -> str:
    """``+0.03783 (+4.95%)``; just the difference when old is 0; '-' for non-numbers."""
    if row.diff is None:
        return "-"
    text = _signed(row.diff, precision)
    if row.pct is not None:
        pct = round(row.pct, 2)
        text += " (0.00%)" if pct == 0 else f" ({pct:+.2f}%)"
    return text


def _signed(value: int | float, precision: int) -> str:
    shown = fmt_value(value, precision)
    if value == 0 or shown in ("0", "0.0", "-0.0"):
        return "0"
    return shown if shown.startswith("-") else "+" + shown


def json_value(value: Any) -> Any:
    """MISSING as null for ``--json``."""
    return None if value is MISSING else value
