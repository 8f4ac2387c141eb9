"""The static SVG of a plot, drawn from its rows as its template asks.

Lines (``linear``, ``simple``), points (``scatter``), a smoothed line over faint points
(``smooth``: a centered moving average stands in for the spec's loess), horizontal bars, and
confusion matrices (one heatmap per revision, counts or shares of the actual class).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from pipever.compare import svg
from pipever.compare.plotdata import PlotData

PLOT_W, PLOT_H = 320, 240
LEFT, TOP, BOTTOM, LEGEND_W = 64, 30, 44, 170


def render_svg(plot: PlotData) -> str:
    if plot.template.startswith("confusion"):
        return _confusion(plot, normalized=plot.template == "confusion_normalized")
    if plot.template.startswith("bar_horizontal"):
        return _bars(plot, sort=plot.template.endswith("sorted"))
    return _xy(plot)


def _series(plot: PlotData) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in plot.rows:
        groups.setdefault(str(row["series"]), []).append(row)
    return groups


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _frame(plot: PlotData, names: list[str], body: list[str]) -> str:
    width = LEFT + PLOT_W + 20 + (LEGEND_W if len(names) > 1 else 0)
    if len(names) > 1:
        body += svg.legend(names, x=LEFT + PLOT_W + 24, y=TOP + 10)
    return svg.document(width, TOP + PLOT_H + BOTTOM, plot.title, body)


def _xy(plot: PlotData) -> str:
    groups = _series(plot)
    x0, x1, y0, y1 = LEFT, LEFT + PLOT_W, TOP + PLOT_H, TOP
    ys = svg.linear([_num(r[plot.y]) for r in plot.rows], y0, y1)
    xs = svg.linear([_num(r[plot.x]) for r in plot.rows], x0, x1)
    band = svg.Band(tuple(dict.fromkeys(str(r[plot.x]) for r in plot.rows)), x0, x1)

    def xpos(value: Any) -> float:
        return xs(_num(value)) if plot.x_numeric else band.center(str(value))

    if plot.x_numeric:
        xticks = [(xs(t), svg.fmt_num(t)) for t in xs.ticks]
    else:
        xticks = [(band.center(c), c) for c in band.cats]
    body = svg.y_axis([(ys(t), svg.fmt_num(t)) for t in ys.ticks], x=x0, y0=y0, y1=y1, title=plot.y_label,
                      grid_to=x1)
    body += svg.x_axis(xticks, y=y0, x0=x0, x1=x1, title=plot.x_label)
    for i, rows in enumerate(groups.values()):
        pts = [(xpos(r[plot.x]), ys(_num(r[plot.y]))) for r in rows if math.isfinite(_num(r[plot.y]))]
        color = svg.color(i)
        if plot.template in ("linear", "simple", "smooth"):
            line_pts = _smoothed(pts) if plot.template == "smooth" else pts
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in line_pts)
            body.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        if plot.template != "simple":
            opacity = "0.3" if plot.template == "smooth" else "1"
            body += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}" fill-opacity="{opacity}"/>'
                     for x, y in pts]
    return _frame(plot, list(groups), body)


def _smoothed(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    half = max(1, len(pts) // 20)
    out = []
    for i, (x, _) in enumerate(pts):
        window = [p[1] for p in pts[max(0, i - half):i + half + 1]]
        out.append((x, sum(window) / len(window)))
    return out


def _bars(plot: PlotData, *, sort: bool) -> str:
    groups = _series(plot)
    values: dict[str, float] = {}
    for row in plot.rows:
        values[str(row[plot.y])] = max(values.get(str(row[plot.y]), -math.inf), _num(row[plot.x]))
    cats = sorted(values, key=lambda c: -values[c]) if sort else list(values)
    x0, x1, y0, y1 = LEFT + 40, LEFT + 40 + PLOT_W - 40, TOP, TOP + PLOT_H
    xs = svg.linear([_num(r[plot.x]) for r in plot.rows], x0, x1, zero=True)
    band = svg.Band(tuple(cats), y0, y1)
    body = svg.x_axis([(xs(t), svg.fmt_num(t)) for t in xs.ticks], y=y1, x0=x0, x1=x1, title=plot.x_label)
    body += svg.y_axis([(band.center(c), c) for c in cats], x=x0, y0=y1, y1=y0, title=plot.y_label)
    inner = band.width * 0.8 / max(len(groups), 1)
    for i, rows in enumerate(groups.values()):
        for row in rows:
            v = _num(row[plot.x])
            if not math.isfinite(v):
                continue
            top = band.start(str(row[plot.y])) + band.width * 0.1 + i * inner
            left, right = sorted((xs(0.0), xs(v)))
            body.append(f'<rect x="{left:.1f}" y="{top:.1f}" width="{right - left:.1f}" height="{inner:.1f}" '
                        f'fill="{svg.color(i)}"/>')
    return _frame(plot, list(groups), body)


def _confusion(plot: PlotData, *, normalized: bool) -> str:
    revs = list(plot.revisions) or [""]
    classes = tuple(sorted({str(r[plot.x]) for r in plot.rows} | {str(r[plot.y]) for r in plot.rows}))
    size = min(PLOT_H, 32 * max(len(classes), 1))
    body: list[str] = []
    for k, rev in enumerate(revs):
        left = LEFT + k * (size + LEFT)
        counts = Counter((str(r[plot.x]), str(r[plot.y])) for r in plot.rows if r["rev"] == rev)
        totals = Counter(str(r[plot.x]) for r in plot.rows if r["rev"] == rev)
        peak = max(counts.values(), default=1)
        xs, ys = svg.Band(classes, left, left + size), svg.Band(classes, TOP + 14, TOP + 14 + size)
        body.append(svg.text(left + size / 2, TOP + 8, rev, extra='font-weight="bold"'))
        for actual in classes:
            for predicted in classes:
                n = counts.get((actual, predicted), 0)
                share = n / totals[actual] if totals[actual] else 0.0
                value = share if normalized else n / peak
                fill = f"rgba(76,120,168,{0.08 + 0.92 * value:.3f})"
                x, y = xs.start(actual), ys.start(predicted)
                body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{xs.width:.1f}" height="{ys.width:.1f}" '
                            f'fill="{fill}" stroke="white"/>')
                label = f"{share:.2f}" if normalized else str(n)
                body.append(svg.text(x + xs.width / 2, y + ys.width / 2 + 4, label))
        body += svg.x_axis([(xs.center(c), c) for c in classes], y=TOP + 14 + size, x0=left, x1=left + size,
                           title=plot.x_label)
        body += svg.y_axis([(ys.center(c), c) for c in classes], x=left, y0=TOP + 14 + size, y1=TOP + 14,
                           title=plot.y_label if k == 0 else "")
    width = LEFT + len(revs) * (size + LEFT)
    return svg.document(width, TOP + 14 + size + BOTTOM, plot.title, body)
