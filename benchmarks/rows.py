"""Turn raw measurements into report rows: per-tool figures, pv/dvc ratio, limit multiple, goals."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.goals import Check, Figures, evaluate
from benchmarks.measure import Stats, summarize
from benchmarks.scenario import Outcome, Results, Step


@dataclass(frozen=True)
class ToolFigure:
    """One tool's result for one step: ``ok`` with stats, or ``skipped``/``error`` with a note."""

    status: str
    note: str | None = None
    stats: Stats | None = None
    peak_rss_mb: float | None = None
    command: str | None = None
    samples: tuple[float, ...] = ()
    requests: int | None = None  # HTTP requests to S3 (the most of any run)


@dataclass(frozen=True)
class Row:
    step: Step
    figures: dict[str, ToolFigure]
    ratio: float | None
    limit_s: float | None
    limit_what: str | None
    multiple: float | None
    checks: list[Check]
    verdict: str


def figure(outcome: Outcome | None) -> ToolFigure:
    if outcome is None:
        return ToolFigure("skipped", "not run")
    if outcome.error:
        return ToolFigure("error", outcome.error, command=outcome.command)
    if not outcome.values:
        return ToolFigure("skipped", outcome.skipped or "not run")
    rss = max(outcome.rss_mb) if outcome.rss_mb else None
    stats = summarize(outcome.values)
    requests = max(outcome.requests) if outcome.requests else None
    return ToolFigure("ok", None, stats, rss, outcome.command, tuple(outcome.values), requests)


def ratio(numerator: ToolFigure | None, denominator: ToolFigure | None) -> float | None:
    if numerator is None or denominator is None or not numerator.stats or not denominator.stats:
        return None
    if denominator.stats.median == 0:
        return None
    return numerator.stats.median / denominator.stats.median


def build_row(
    step: Step,
    results: Results,
    tools: Sequence[str],
    bounds: dict[str, tuple[float, str]],
) -> Row:
    figures = {name: figure(results.get((step.id, name))) for name in tools}
    pv = figures.get("pv")
    limit_s, limit_what = bounds.get(step.id, (None, None))
    multiple = None
    if pv and pv.stats and limit_s:
        multiple = pv.stats.median / limit_s
    pv_ratio = ratio(pv, figures.get("dvc"))
    checks, verdict = evaluate(
        step.id,
        Figures(
            pv=pv.stats.median if pv and pv.stats else None,
            pv_rss_mb=pv.peak_rss_mb if pv else None,
            ratio=pv_ratio,
            multiple=multiple,
            pv_requests=pv.requests if pv else None,
        ),
    )
    return Row(step, figures, pv_ratio, limit_s, limit_what, multiple, checks, verdict)


def build_rows(
    steps: Sequence[Step],
    results: Results,
    tools: Sequence[str],
    bounds: dict[str, tuple[float, str]],
) -> list[Row]:
    return [build_row(step, results, tools, bounds) for step in steps]


BYTE_SHARES = "%"  # W13's rows: shares of a file moved or stored, not costs of running a command


def ratio_rows(rows: Sequence[Row]) -> list[Row]:
    """Rows with both figures that count towards the median ratio: times and footprint, not
    W13's byte shares (a dozen rows of ~0.01-0.2 would drown the times)."""
    return [row for row in rows if row.ratio is not None and row.step.unit != BYTE_SHARES]


def median_ratio(rows: Sequence[Row]) -> float | None:
    """Median of pv/dvc over the ``ratio_rows``."""
    ratios = [row.ratio for row in ratio_rows(rows) if row.ratio is not None]
    return statistics.median(ratios) if ratios else None
