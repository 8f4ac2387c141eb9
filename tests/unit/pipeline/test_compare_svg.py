"""The static SVG charts and the offline HTML report."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from pipever.compare.plotdata import TEMPLATES, PlotConfig, build_plot, override
from pipever.compare.report import ReportPlot, render_html, script_json
from pipever.compare.svg import Band, fmt_num, linear, nice_ticks
from pipever.compare.svgcharts import render_svg
from pipever.pipeline.stage import PlotProps

NS = "{http://www.w3.org/2000/svg}"
LOG = [{"epoch": i, "loss": 1 / i, "cls": "ab"[i % 2], "pred": "ab"[i % 3 % 2]} for i in range(1, 7)]


@pytest.mark.parametrize(("lo", "hi", "ticks"), [
    (0, 1, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    (0.13, 0.87, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    (3, 97, [0, 20, 40, 60, 80, 100]),
    (-5, 5, [-6, -4, -2, 0, 2, 4, 6]),
    (2, 2, [1.0, 1.5, 2.0, 2.5, 3.0]),
])
def test_nice_ticks(lo: float, hi: float, ticks: list[float]) -> None:
    assert nice_ticks(lo, hi) == pytest.approx(ticks)


def test_scales_and_numbers() -> None:
    y = linear([0.5, 1.0], 200, 0)
    assert (y.lo, y.hi, y(y.lo), y(y.hi)) == (0.5, 1.0, 200, 0)
    band = Band(("a", "b"), 0, 100)
    assert (band.width, band.start("b"), band.center("a")) == (50, 50, 25)
    assert [fmt_num(v) for v in (2.0, 0.30000000000000004, 1234567.0, 1e-7)] == ["2", "0.3", "1234567", "1e-07"]


def _svg(template: str, data: dict[str, list[dict[str, Any]]], **props: Any) -> ET.Element:
    config = override(PlotConfig("p", {"d.csv": ()}), PlotProps(template=template, **props))
    text = render_svg(build_plot(config, {rev: {"d.csv": rows} for rev, rows in data.items()}))
    return ET.fromstring(text)  # well-formed XML


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_draws_valid_svg(template: str) -> None:
    props = {"x": "cls", "y": "pred"} if template.startswith(("confusion", "bar")) else {"x": "epoch", "y": "loss"}
    root = _svg(template, {"HEAD": LOG, "workspace": LOG[:3]}, **props)
    assert root.tag == NS + "svg" and root.find(NS + "title").text == "p"  # type: ignore[union-attr]


def test_lines_points_and_legend() -> None:
    root = _svg("linear", {"HEAD": LOG, "workspace": LOG[:3]}, x="epoch", y="loss")
    assert len(root.findall(NS + "polyline")) == 2
    assert len(root.findall(NS + "circle")) == 9
    texts = [t.text for t in root.iter(NS + "text")]
    assert "HEAD" in texts and "workspace" in texts and "epoch" in texts and "loss" in texts
    simple = _svg("simple", {"w": LOG}, x="epoch", y="loss")
    assert (len(simple.findall(NS + "polyline")), len(simple.findall(NS + "circle"))) == (1, 0)
    assert "w" not in [t.text for t in simple.iter(NS + "text")]  # one series: no legend


def test_confusion_cells_count_pairs_per_revision() -> None:
    rows = [{"a": "x", "p": "x"}, {"a": "x", "p": "y"}, {"a": "x", "p": "x"}, {"a": "y", "p": "y"}]
    root = _svg("confusion", {"HEAD": rows, "workspace": rows[:1]}, x="a", y="p")
    assert len([r for r in root.iter(NS + "rect") if r.get("stroke") == "white"]) == 8  # 2 x 2 cells, 2 revisions
    texts = [t.text for t in root.iter(NS + "text")]
    assert texts.count("2") >= 1 and "HEAD" in texts and "workspace" in texts
    norm = _svg("confusion_normalized", {"w": rows}, x="a", y="p")
    assert {"0.67", "0.33", "1.00", "0.00"} <= {t.text for t in norm.iter(NS + "text")}


def test_bars_one_per_category_and_series() -> None:
    rows = [{"f": "a", "v": 1}, {"f": "b", "v": 3}]
    root = _svg("bar_horizontal_sorted", {"HEAD": rows, "workspace": rows}, x="v", y="f")
    bars = [r for r in root.iter(NS + "rect") if r.get("fill", "").startswith("#")]
    assert len(bars) == 4 + 2  # bars, and the legend's swatches


def test_script_json_cannot_close_the_script() -> None:
    text = script_json({"a": "</script><!-- & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"a": "</script><!-- & \u2028"}


def test_report_is_offline_and_embeds_specs() -> None:
    html = render_html([ReportPlot("a<b", "<svg></svg>", {"data": {"values": [1]}}, ("HEAD",))])
    assert "<script src" not in html and "http" not in html
    assert '<h2>a&lt;b</h2>' in html and '<div class="chart" id="chart-0"><svg></svg></div>' in html
    assert '<script type="application/json" class="vega-lite-spec" data-target="chart-0" data-plot-id="a&lt;b">' \
           '{"data":{"values":[1]}}</script>' in html
    assert "vegaEmbed" not in html
    assert "No plots to show." in render_html([])
    with_js = render_html([], scripts=["var x = '</script>';"])
    assert "<script>var x = '<\\/script>';</script>" in with_js and "vegaEmbed" in with_js
