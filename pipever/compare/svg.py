"""Small SVG toolkit for the static plots: scales with nice ticks, axes, legend, escaping.

Enough to draw lines, points, bars and heatmaps readably without any JavaScript: the report must
open offline, in any browser, or be pasted into a Markdown file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

PALETTE = ("#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d",
           "#bab0ac")


def color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def fmt_num(value: float) -> str:
    """A tick or cell label: short, no float noise (``0.30000000000000004`` -> ``0.3``)."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}"


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering ``lo..hi`` (steps of 1, 2 or 5 times 10^k)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi == lo:
        lo, hi = lo - (abs(lo) or 1) / 2, hi + (abs(hi) or 1) / 2
    raw = (hi - lo) / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    start, end = math.floor(lo / step) * step, math.ceil(hi / step) * step
    return [round(start + k * step, 12) for k in range(round((end - start) / step) + 1)]


@dataclass(frozen=True)
class Linear:
    """Maps the domain ``lo..hi`` onto the pixel range ``a..b`` (``b < a`` for a y axis)."""

    lo: float
    hi: float
    a: float
    b: float
    ticks: tuple[float, ...] = field(default=())

    def __call__(self, value: float) -> float:
        span = self.hi - self.lo
        return self.a + (value - self.lo) / span * (self.b - self.a) if span else (self.a + self.b) / 2


def linear(values: Sequence[float], a: float, b: float, *, zero: bool = False) -> Linear:
    finite = [v for v in values if math.isfinite(v)] or [0.0]
    lo, hi = min(finite), max(finite)
    if zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    ticks = nice_ticks(lo, hi)
    return Linear(ticks[0], ticks[-1], a, b, tuple(ticks))


@dataclass(frozen=True)
class Band:
    """Categories in equal bands over ``a..b``; ``center`` gives a category's middle."""

    cats: tuple[str, ...]
    a: float
    b: float

    @property
    def width(self) -> float:
        return (self.b - self.a) / max(len(self.cats), 1)

    def start(self, cat: str) -> float:
        return self.a + self.cats.index(cat) * self.width

    def center(self, cat: str) -> float:
        return self.start(cat) + self.width / 2


def text(x: float, y: float, label: str, *, anchor: str = "middle", size: int = 11, extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-family="sans-serif" font-size="{size}"'
            f'{" " + extra if extra else ""}>{escape(label)}</text>')


def line(x1: float, y1: float, x2: float, y2: float, stroke: str = "#888") -> str:
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}"/>'


def x_axis(ticks: Sequence[tuple[float, str]], *, y: float, x0: float, x1: float, title: str) -> list[str]:
    """A bottom axis at pixel row ``y``: ``ticks`` are (pixel x, label)."""
    out = [line(x0, y, x1, y)]
    for px, label in ticks:
        out += [line(px, y, px, y + 4), text(px, y + 15, label)]
    out.append(text((x0 + x1) / 2, y + 32, title, extra='font-weight="bold"'))
    return out


def y_axis(ticks: Sequence[tuple[float, str]], *, x: float, y0: float, y1: float, title: str,
           grid_to: float | None = None) -> list[str]:
    """A left axis at pixel column ``x``: ``ticks`` are (pixel y, label); light grid lines to ``grid_to``."""
    out = [line(x, y0, x, y1)]
    for py, label in ticks:
        if grid_to is not None:
            out.append(line(x, py, grid_to, py, "#eee"))
        out += [line(x - 4, py, x, py), text(x - 6, py + 4, label, anchor="end")]
    mid = (y0 + y1) / 2
    out.append(text(14, mid, title, extra=f'font-weight="bold" transform="rotate(-90 14 {mid:.1f})"'))
    return out


def legend(names: Sequence[str], *, x: float, y: float) -> list[str]:
    out = []
    for i, name in enumerate(names):
        row = y + i * 16
        out.append(f'<rect x="{x:.1f}" y="{row - 9:.1f}" width="10" height="10" fill="{color(i)}"/>')
        out.append(text(x + 14, row, name, anchor="start"))
    return out


def document(width: float, height: float, title: str, body: Sequence[str]) -> str:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" role="img">')
    label = f"<title>{escape(title)}</title>"
    heading = text(width / 2, 16, title, size=13, extra='font-weight="bold"')
    return "\n".join([head, label, f'<rect width="100%" height="100%" fill="white"/>', heading, *body, "</svg>"])
