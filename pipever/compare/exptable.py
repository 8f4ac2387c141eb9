"""The ``pv exp show`` table: one row per workspace, baseline, experiment or queued run; columns
``Experiment``, ``Type``, ``Baseline`` (short commit it ran from; a baseline's own), ``Created``, then every
param, then every metric.

A param of ``params.yaml`` is titled by its dotted key, one of another file ``file:key``. Metrics
are titled by their key when a single metrics file is shown, else ``file:key``. A value a row
does not have is ``-``.

Options as DVC's: ``only_changed`` keeps the param/metric columns whose value is not the same in
every row; ``drop``/``keep`` are regular expressions on column titles (``keep`` wins over both);
``sort_by`` orders the experiments of each baseline by a param or metric (rows without it last),
leaving the workspace, baselines and queued runs where they are.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pipever.compare.metrics import fmt_value
from pipever.pipeline.params import MISSING, flatten
from pipever.pipeline.stage import DEFAULT_PARAMS_FILE


class Row(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> Any: ...

    @property
    def rev(self) -> str | None: ...

    @property
    def baseline(self) -> str | None: ...

    @property
    def created(self) -> int | None: ...

    @property
    def params(self) -> Mapping[str, Mapping[str, Any]]: ...

    @property
    def metrics(self) -> Mapping[str, Mapping[str, Any]]: ...


def _columns(blocks: Sequence[Mapping[str, Mapping[str, Any]]], *, bare: str | None) -> list[tuple[str, str, str]]:
    """(title, file, key) of every value any row has, in first-seen order."""
    seen: dict[tuple[str, str], None] = {}
    for block in blocks:
        for file, values in block.items():
            for key in flatten(values):
                seen.setdefault((file, key), None)
    return [(key if file == bare else f"{file}:{key}", file, key) for file, key in seen]


@dataclass(frozen=True)
class TableOptions:
    precision: int | None = 5
    only_changed: bool = False
    drop: str | None = None  # regex of column titles to leave out
    keep: str | None = None  # regex of column titles always shown
    sort_by: str | None = None  # a param or metric title, or FILE:KEY
    descending: bool = False


def _values(rows: Sequence[Row]) -> list[tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]]:
    return [({f: flatten(v) for f, v in r.params.items()}, {f: flatten(v) for f, v in r.metrics.items()}) for r in rows]


def _find_column(cols: Sequence[tuple[str, str, str, int]], name: str) -> tuple[str, str, str, int]:
    for col in cols:
        if name in (col[0], f"{col[1]}:{col[2]}"):
            return col
    from pipever.errors import PvError

    raise PvError(f"no param or metric '{name}' to sort by", hint="use a column title of 'pv exp show', or FILE:KEY")


def _sorted_rows(rows: Sequence[Row], flat: list[Any], col: tuple[str, str, str, int], descending: bool) -> list[int]:
    """Row indexes: each run of consecutive experiments sorted by the column's value (numbers
    before strings, rows without a value last whatever the order)."""
    _t, file, key, which = col

    def sort_run(run: list[int]) -> list[int]:
        have, lacking = [], []
        for i in run:
            v = flat[i][which].get(file, {}).get(key, MISSING)
            if v is MISSING or v is None:
                lacking.append(i)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                have.append(((0, v, ""), i))
            else:
                have.append(((1, 0, str(v)), i))
        have.sort(key=lambda kv: kv[0], reverse=descending)
        return [i for _k, i in have] + lacking

    order: list[int] = []
    run: list[int] = []
    for i, r in enumerate(rows):
        if getattr(r.kind, "value", str(r.kind)) == "experiment":
            run.append(i)
            continue
        order += sort_run(run)
        run = []
        order.append(i)
    return order + sort_run(run)


def exp_table(rows: Sequence[Row], *, precision: int | None = 5, options: TableOptions | None = None,
              ) -> tuple[list[str], list[list[str]]]:
    """(headers, cells) of the table."""
    opts = options or TableOptions(precision=precision)
    params = _columns([r.params for r in rows], bare=DEFAULT_PARAMS_FILE)
    metric_files = {f for r in rows for f in r.metrics}
    metrics = _columns([r.metrics for r in rows], bare=next(iter(metric_files)) if len(metric_files) == 1 else None)
    cols = [(t, f, k, 0) for t, f, k in params] + [(t, f, k, 1) for t, f, k in metrics]
    flat = _values(rows)
    order = list(range(len(rows)))
    if opts.sort_by:
        order = _sorted_rows(rows, flat, _find_column(cols, opts.sort_by), opts.descending)
    shown = []
    for col in cols:
        title, file, key, which = col
        if opts.keep and re.search(opts.keep, title):
            shown.append(col)
            continue
        if opts.drop and re.search(opts.drop, title):
            continue
        if opts.only_changed:
            seen = {repr(v[which].get(file, {}).get(key, MISSING)) for v in flat}
            if len(seen) <= 1:
                continue
        shown.append(col)
    headers = ["Experiment", "Type", "Baseline", "Created", *(t for t, _, _, _ in shown)]
    cells = []
    for i in order:
        r = rows[i]
        kind = getattr(r.kind, "value", str(r.kind))
        cells.append([
            r.name, kind, (r.baseline or r.rev or "")[:7] or "-", fmt_time(r.created),
            *(fmt_value(flat[i][w].get(f, {}).get(k, MISSING), opts.precision) for _, f, k, w in shown),
        ])
    return headers, cells


def fmt_time(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))
