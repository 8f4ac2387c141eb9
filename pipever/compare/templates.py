"""Vega-Lite (v5) specs of the plot templates DVC users know, with the data inlined.

``linear`` (lines with points and tooltips, the default), ``simple`` (lines), ``scatter``,
``smooth`` (a loess curve over faint points), ``confusion`` / ``confusion_normalized`` (a count,
or a share of each actual class, per revision), ``bar_horizontal`` / ``bar_horizontal_sorted``.
Series are told apart by color (the ``series`` field); confusion matrices are faceted by revision.
"""

from __future__ import annotations

from typing import Any

from pipever.compare.plotdata import PlotData

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
WIDTH, HEIGHT = 300, 300
Spec = dict[str, Any]


def vega_spec(plot: PlotData) -> Spec:
    """The complete, self-contained Vega-Lite spec of ``plot``."""
    base: Spec = {"$schema": SCHEMA, "data": {"values": [dict(r) for r in plot.rows]}, "title": plot.title}
    builder = _BUILDERS.get(plot.template, _linear)
    return {**base, **builder(plot)}


def _x(plot: PlotData) -> Spec:
    kind = "quantitative" if plot.x_numeric else "ordinal"
    enc: Spec = {"field": plot.x, "type": kind, "title": plot.x_label}
    return enc if plot.x_numeric else {**enc, "sort": None}


def _y(plot: PlotData) -> Spec:
    return {"field": plot.y, "type": "quantitative", "title": plot.y_label, "scale": {"zero": False}}


def _color() -> Spec:
    return {"field": "series", "type": "nominal", "title": None}


def _xy(plot: PlotData) -> Spec:
    return {"x": _x(plot), "y": _y(plot), "color": _color()}


def _linear(plot: PlotData) -> Spec:
    enc = _xy(plot)
    return {"width": WIDTH, "height": HEIGHT, "layer": [
        {"mark": {"type": "line"}, "encoding": enc},
        {"mark": {"type": "point", "filled": True, "size": 30, "tooltip": {"content": "data"}}, "encoding": enc},
    ]}


def _simple(plot: PlotData) -> Spec:
    return {"width": WIDTH, "height": HEIGHT, "mark": {"type": "line"}, "encoding": _xy(plot)}


def _scatter(plot: PlotData) -> Spec:
    return {"width": WIDTH, "height": HEIGHT, "mark": {"type": "point", "tooltip": {"content": "data"}},
            "encoding": _xy(plot)}


def _smooth(plot: PlotData) -> Spec:
    enc = _xy(plot)
    return {"width": WIDTH, "height": HEIGHT, "layer": [
        {"mark": {"type": "line"}, "encoding": enc,
         "transform": [{"loess": plot.y, "on": plot.x, "groupby": ["series"], "bandwidth": 0.3}]},
        {"mark": {"type": "point", "opacity": 0.3, "tooltip": {"content": "data"}}, "encoding": enc},
    ]}


def _confusion(plot: PlotData, *, normalized: bool = False) -> Spec:
    transform: list[Spec] = [{"aggregate": [{"op": "count", "as": "xy_count"}], "groupby": ["rev", plot.y, plot.x]}]
    value, fmt = "xy_count", "d"
    if normalized:
        transform += [
            {"joinaggregate": [{"op": "sum", "field": "xy_count", "as": "actual_count"}], "groupby": ["rev", plot.x]},
            {"calculate": "datum.xy_count / datum.actual_count", "as": "percent_of_actual"},
        ]
        value, fmt = "percent_of_actual", ".2f"
    axis = {"type": "nominal", "sort": "ascending"}
    return {"facet": {"field": "rev", "type": "nominal", "title": None}, "spec": {
        "width": WIDTH, "height": HEIGHT, "transform": transform,
        "encoding": {"x": {"field": plot.x, "title": plot.x_label, **axis},
                     "y": {"field": plot.y, "title": plot.y_label, **axis}},
        "layer": [
            {"mark": "rect", "encoding": {"color": {"field": value, "type": "quantitative", "title": None}}},
            {"mark": "text", "encoding": {"text": {"field": value, "type": "quantitative", "format": fmt}}},
        ],
    }}


def _bar(plot: PlotData, *, sort: bool = False) -> Spec:
    y: Spec = {"field": plot.y, "type": "nominal", "title": plot.y_label, "sort": "-x" if sort else None}
    x: Spec = {"field": plot.x, "type": "quantitative", "title": plot.x_label, "stack": None}
    return {"width": WIDTH, "height": HEIGHT, "mark": {"type": "bar", "tooltip": {"content": "data"}},
            "encoding": {"x": x, "y": y, "yOffset": {"field": "series"}, "color": _color()}}


_BUILDERS: dict[str, Any] = {
    "linear": _linear,
    "simple": _simple,
    "scatter": _scatter,
    "smooth": _smooth,
    "confusion": _confusion,
    "confusion_normalized": lambda p: _confusion(p, normalized=True),
    "bar_horizontal": _bar,
    "bar_horizontal_sorted": lambda p: _bar(p, sort=True),
}
