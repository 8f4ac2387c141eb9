"""Plot definitions, data records, long-format rows and the Vega-Lite specs of each template."""

from __future__ import annotations

from typing import Any

import pytest

from pipever.compare.plotdata import (
    TEMPLATES,
    PlotConfig,
    build_plot,
    override,
    pipeline_plots,
    records,
    select,
)
from pipever.compare.templates import SCHEMA, vega_spec
from pipever.errors import SchemaError
from pipever.pipeline.schema import load_pipeline
from pipever.pipeline.stage import PlotProps

LOG = [{"epoch": 1, "loss": 0.5, "acc": 0.6}, {"epoch": 2, "loss": 0.25, "acc": 0.8}]


def test_records_from_each_format() -> None:
    assert records(b"a,b\n1,x\n", "d.csv") == [{"a": 1, "b": "x"}]
    assert records(b'[{"a": 1}]', "d.json") == [{"a": 1}]
    assert records(b'{"meta": 1, "train": [{"a": 1}], "val": [{"a": 2}]}', "d.json") == [{"a": 1}]
    assert records(b"- a: 1\n- a: 2\n", "d.yaml") == [{"a": 1}, {"a": 2}]
    with pytest.raises(SchemaError, match="plots data must be a list of records"):
        records(b'{"a": 1}', "d.json")


def test_pipeline_plots_and_selection() -> None:
    text = ("stages:\n  s:\n    cmd: x\n    plots: [a.csv, {b.csv: {x: e, y: l, template: scatter}}]\n"
            "plots:\n- top: {x: e, y: {a.csv: [l, m]}}\n- c.json\n")
    plots = pipeline_plots(load_pipeline(text, read_file=lambda _: None))
    assert [(p.id, dict(p.y), p.template) for p in plots] == [
        ("top", {"a.csv": ("l", "m")}, "linear"), ("c.json", {"c.json": ()}, "linear"),
        ("a.csv", {"a.csv": ()}, "linear"), ("b.csv", {"b.csv": ("l",)}, "scatter"),
    ]
    assert [p.id for p in select(plots, ["b.csv", "top", "free.tsv"])] == ["b.csv", "top", "free.tsv"]
    assert [p.id for p in select(plots, ["a.csv"])] == ["a.csv"]  # the plot of that id, not 'top'
    assert pipeline_plots(None) == []


def test_override_from_the_command_line() -> None:
    plot = PlotConfig("p", {"a.csv": ("l",), "b.csv": ()}, PlotProps(template="scatter", x="e", title="T"))
    changed = override(plot, PlotProps(template="smooth", y="z", x_label="X"))
    assert dict(changed.y) == {"a.csv": ("z",), "b.csv": ("z",)}
    assert changed.props == PlotProps(template="smooth", x="e", title="T", x_label="X")
    assert override(plot, PlotProps()) == plot


def test_defaults_index_x_and_last_column_y() -> None:
    plot = build_plot(PlotConfig("log.csv", {"log.csv": ()}), {"workspace": {"log.csv": LOG}})
    assert (plot.x, plot.y, plot.title, plot.x_label, plot.revisions) == ("step", "acc", "log.csv", "step", ("workspace",))
    assert [(r["step"], r["acc"], r["series"]) for r in plot.rows] == [(0, 0.6, "acc"), (1, 0.8, "acc")]


def test_series_name_what_varies() -> None:
    config = PlotConfig("p", {"a.csv": ("loss", "acc")}, PlotProps(x="epoch"))
    plot = build_plot(config, {"HEAD": {"a.csv": LOG}, "workspace": {"a.csv": LOG[:1]}})
    assert plot.y == "value"
    assert sorted({r["series"] for r in plot.rows}) == ["HEAD::acc", "HEAD::loss", "workspace::acc", "workspace::loss"]
    two_files = build_plot(PlotConfig("p", {"a.csv": ("loss",), "b.csv": ("loss",)}, PlotProps(x="epoch")),
                           {"w": {"a.csv": LOG, "b.csv": LOG}})
    assert two_files.y == "loss" and {r["series"] for r in two_files.rows} == {"a.csv", "b.csv"}


def test_x_from_another_file_and_missing_data() -> None:
    config = PlotConfig("p", {"y.csv": ("loss",)}, PlotProps(x={"x.csv": "t"}))
    data: dict[str, dict[str, list[dict[str, Any]]]] = {"w": {"y.csv": LOG, "x.csv": [{"t": 10}, {"t": 20}]}, "old": {}}
    plot = build_plot(config, data)
    assert [(r["t"], r["loss"]) for r in plot.rows] == [(10, 0.5), (20, 0.25)]
    assert plot.revisions == ("w",)
    assert build_plot(config, {"old": {}}).rows == ()


def test_confusion_defaults_x_to_the_first_column() -> None:
    rows = [{"actual": "a", "predicted": "b"}]
    plot = build_plot(PlotConfig("cm", {"cm.csv": ()}, PlotProps(template="confusion")), {"w": {"cm.csv": rows}})
    assert (plot.x, plot.y, plot.x_numeric) == ("actual", "predicted", False)


def _plot(template: str, rows: list[dict[str, Any]] | None = None, **props: Any) -> Any:
    config = override(PlotConfig("p", {"d.csv": ()}), PlotProps(template=template, **props))
    return build_plot(config, {"workspace": {"d.csv": rows or LOG}})


def test_linear_spec_golden() -> None:
    spec = vega_spec(_plot("linear", x="epoch", y_label="Loss"))
    enc = {"x": {"field": "epoch", "type": "quantitative", "title": "epoch"},
           "y": {"field": "acc", "type": "quantitative", "title": "Loss", "scale": {"zero": False}},
           "color": {"field": "series", "type": "nominal", "title": None}}
    assert spec == {
        "$schema": SCHEMA, "title": "p", "width": 300, "height": 300,
        "data": {"values": [
            {"epoch": 1, "acc": 0.6, "rev": "workspace", "filename": "d.csv", "field": "acc", "series": "acc"},
            {"epoch": 2, "acc": 0.8, "rev": "workspace", "filename": "d.csv", "field": "acc", "series": "acc"},
        ]},
        "layer": [{"mark": {"type": "line"}, "encoding": enc},
                  {"mark": {"type": "point", "filled": True, "size": 30, "tooltip": {"content": "data"}},
                   "encoding": enc}],
    }


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_gives_a_complete_spec(template: str) -> None:
    spec = vega_spec(_plot(template, x="epoch"))
    assert spec["$schema"] == SCHEMA and len(spec["data"]["values"]) == 2
    assert any(k in spec for k in ("mark", "layer", "spec"))


def test_template_specifics() -> None:
    assert vega_spec(_plot("simple"))["mark"] == {"type": "line"}
    assert vega_spec(_plot("smooth", x="epoch"))["layer"][0]["transform"][0]["loess"] == "acc"
    bars = vega_spec(_plot("bar_horizontal_sorted", [{"f": "a", "v": 1}], x="v", y="f"))
    assert bars["encoding"]["y"] == {"field": "f", "type": "nominal", "title": "f", "sort": "-x"}
    norm = vega_spec(_plot("confusion_normalized", [{"a": "x", "p": "y"}], x="a", y="p"))["spec"]
    assert norm["transform"][-1] == {"calculate": "datum.xy_count / datum.actual_count", "as": "percent_of_actual"}
    assert norm["layer"][1]["encoding"]["text"]["format"] == ".2f"
    labels = vega_spec(_plot("linear", [{"k": "b", "v": 1}, {"k": "a", "v": 2}], x="k"))
    assert labels["layer"][0]["encoding"]["x"] == {"field": "k", "type": "ordinal", "title": "k", "sort": None}
