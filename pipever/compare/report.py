"""The plots report: one self-contained HTML page that opens offline.

Each plot is drawn as inline SVG (no JavaScript needed) and its complete Vega-Lite spec, data
inlined, is embedded as ``<script type="application/json" class="vega-lite-spec">`` for tools.
When the vega, vega-lite and vega-embed scripts are given (the copies vendored in the package,
never fetched), they are inlined too and the charts become interactive, the SVG staying as the
fallback. Nothing on the page loads from the network.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

STYLE = """
body { font-family: sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; } h2 { font-size: 15px; margin: 0 0 6px; }
section { display: inline-block; vertical-align: top; margin: 0 24px 24px 0; }
.revs { font-size: 12px; color: #555; }
"""

EMBED = """
document.querySelectorAll("script.vega-lite-spec").forEach(function (node) {
  var target = document.getElementById(node.dataset.target);
  vegaEmbed(target, JSON.parse(node.textContent), {actions: false, renderer: "svg"})
    .catch(function (err) { console.warn("pv plots: kept the static chart:", err); });
});
"""


@dataclass(frozen=True)
class ReportPlot:
    id: str
    svg: str
    spec: dict[str, Any]
    revisions: tuple[str, ...]
    kind: str = "vega"  # or "image": ``svg`` then holds the <figure> elements, and there is no spec


def script_json(data: Any) -> str:
    """JSON safe inside ``<script>``: no ``</script>``, ``<!--`` or line separators can end it."""
    text = json.dumps(data, indent=None, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") \
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def inline_script(js: str) -> str:
    return "<script>" + js.replace("</script", "<\\/script") + "</script>"


def render_html(plots: Sequence[ReportPlot], *, title: str = "pv plots", scripts: Sequence[str] = ()) -> str:
    """The page; ``scripts`` are the vega, vega-lite and vega-embed sources (optional)."""
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>{escape(title)}</title>", f"<style>{STYLE}</style>",
        *(inline_script(s) for s in scripts), "</head>", "<body>", f"<h1>{escape(title)}</h1>",
    ]
    if not plots:
        parts.append("<p>No plots to show.</p>")
    for i, plot in enumerate(plots):
        revs = ", ".join(plot.revisions)
        parts += [
            f'<section id="plot-{i}">', f"<h2>{escape(plot.id)}</h2>",
            f'<div class="chart" id="chart-{i}">{plot.svg}</div>',
            f'<div class="revs">revisions: {escape(revs)}</div>' if revs else "",
            f'<script type="application/json" class="vega-lite-spec" data-target="chart-{i}" '
            f'data-plot-id="{escape(plot.id)}">{script_json(plot.spec)}</script>' if plot.kind == "vega" else "",
            "</section>",
        ]
    if scripts:
        parts.append(inline_script(EMBED))
    parts += ["</body>", "</html>", ""]
    return "\n".join(p for p in parts if p)
