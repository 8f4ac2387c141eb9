"""The ``pv exp show`` table: one row per workspace, baseline, experiment or queued run; columns
``Experiment``, ``Type``, ``Baseline`` (short commit it ran from; a baseline's own), ``Created``, then every
param, then every metric.

A param of ``params.yaml`` is titled by its dotted key, one of another file ``file:key``. Metrics
are titled by their key when a single metrics file is shown, else ``file:key``. A value a row
does not have is ``-``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
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


def exp_table(rows: Sequence[Row], *, precision: int | None = 5) -> tuple[list[str], list[list[str]]]:
    """(headers, cells) of the table."""
    params = _columns([r.params for r in rows], bare=DEFAULT_PARAMS_FILE)
    metric_files = {f for r in rows for f in r.metrics}
    metrics = _columns([r.metrics for r in rows], bare=next(iter(metric_files)) if len(metric_files) == 1 else None)
    headers = ["Experiment", "Type", "Baseline", "Created", *(t for t, _, _ in params), *(t for t, _, _ in metrics)]
    cells = []
    for r in rows:
        flat_p = {f: flatten(v) for f, v in r.params.items()}
        flat_m = {f: flatten(v) for f, v in r.metrics.items()}
        kind = getattr(r.kind, "value", str(r.kind))
        cells.append([
            r.name, kind, (r.baseline or r.rev or "")[:7] or "-", fmt_time(r.created),
            *(fmt_value(flat_p.get(f, {}).get(k, MISSING), precision) for _, f, k in params),
            *(fmt_value(flat_m.get(f, {}).get(k, MISSING), precision) for _, f, k in metrics),
        ])
    return headers, cells


def fmt_time(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))
