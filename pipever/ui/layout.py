"""Where to draw each stage of the DAG: a pure layered layout (columns by longest path from a
source, rows ordered to keep edges short), so the browser only draws boxes and curves."""

from __future__ import annotations

from collections.abc import Sequence

NODE_W, NODE_H, GAP_X, GAP_Y, MARGIN = 170, 44, 70, 22, 16


def layers(nodes: Sequence[str], edges: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Column of each node: 0 for sources, else one more than its deepest upstream node."""
    ups: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        if a in ups and b in ups:
            ups[b].append(a)
    col: dict[str, int] = {}

    def depth(n: str, seen: frozenset[str]) -> int:
        if n not in col:
            col[n] = 1 + max((depth(u, seen | {n}) for u in ups[n] if u not in seen), default=-1)
        return col[n]

    for n in nodes:
        depth(n, frozenset())
    return col


def layout(nodes: Sequence[str], edges: Sequence[tuple[str, str]]) -> dict[str, object]:
    """``{"width", "height", "nodes": {name: {"x", "y", "w", "h"}}}`` with rows in each column
    sorted by the mean row of their upstream nodes (one barycentre pass)."""
    col = layers(nodes, edges)
    columns: dict[int, list[str]] = {}
    for n in nodes:
        columns.setdefault(col[n], []).append(n)
    row: dict[str, float] = {}
    for c in sorted(columns):
        if c > 0:
            def key(n: str) -> float:
                ups = [row[a] for a, b in edges if b == n and a in row]
                return sum(ups) / len(ups) if ups else float(len(row))
            columns[c].sort(key=key)
        for i, n in enumerate(columns[c]):
            row[n] = float(i)
    tallest = max((len(v) for v in columns.values()), default=0)
    placed = {}
    for c, names in columns.items():
        offset = (tallest - len(names)) * (NODE_H + GAP_Y) / 2
        for i, n in enumerate(names):
            placed[n] = {"x": MARGIN + c * (NODE_W + GAP_X), "y": MARGIN + offset + i * (NODE_H + GAP_Y),
                         "w": NODE_W, "h": NODE_H}
    width = MARGIN * 2 + len(columns) * (NODE_W + GAP_X) - (GAP_X if columns else 0)
    height = MARGIN * 2 + tallest * (NODE_H + GAP_Y) - (GAP_Y if tallest else 0)
    return {"width": width, "height": height, "nodes": placed}
