"""Text renderings of a graph for ``pv dag``: ASCII boxes, Graphviz dot, Mermaid, Markdown.

Pure functions of ``nodes`` (in a stable order) and ``edges`` (upstream, downstream); they work for
the stage graph and for ``--outs``. The ASCII layout puts each node on the row of its longest path
from a source, orders rows by the position of parents, and joins boxes with ``*`` lines.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

Edge = tuple[str, str]


class Format(str, enum.Enum):
    ASCII = "ascii"
    DOT = "dot"
    MERMAID = "mermaid"
    MD = "md"


def render(nodes: Sequence[str], edges: Sequence[Edge], fmt: Format = Format.ASCII) -> str:
    if fmt is Format.DOT:
        return to_dot(nodes, edges)
    if fmt is Format.MERMAID:
        return to_mermaid(nodes, edges)
    if fmt is Format.MD:
        return to_markdown(nodes, edges)
    return to_ascii(nodes, edges)


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(nodes: Sequence[str], edges: Sequence[Edge]) -> str:
    lines = ["strict digraph  {"]
    lines += [f"{_dot_quote(n)};" for n in nodes]
    lines += [f"{_dot_quote(a)} -> {_dot_quote(b)};" for a, b in edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(nodes: Sequence[str], edges: Sequence[Edge]) -> str:
    ids = {n: f"node{i}" for i, n in enumerate(nodes, 1)}
    lines = ["flowchart TD"]
    for n in nodes:
        label = n.replace('"', "#quot;")
        lines.append(f'\t{ids[n]}["{label}"]')
    lines += [f"\t{ids[a]}-->{ids[b]}" for a, b in edges]
    return "\n".join(lines) + "\n"


def to_markdown(nodes: Sequence[str], edges: Sequence[Edge]) -> str:
    return "```mermaid\n" + to_mermaid(nodes, edges) + "```\n"


def _depths(nodes: Sequence[str], edges: Sequence[Edge]) -> dict[str, int]:
    """Row of each node: its longest path from a source (Kahn's order; the graph is acyclic)."""
    children: dict[str, list[str]] = {n: [] for n in nodes}
    missing = {n: 0 for n in nodes}
    for a, b in edges:
        children[a].append(b)
        missing[b] += 1
    depth = {n: 0 for n in nodes}
    queue = [n for n in nodes if not missing[n]]
    for n in queue:  # the queue grows while it is walked
        for c in children[n]:
            depth[c] = max(depth[c], depth[n] + 1)
            missing[c] -= 1
            if not missing[c]:
                queue.append(c)
    return depth


def _components(nodes: Sequence[str], edges: Sequence[Edge]) -> list[list[str]]:
    root = {n: n for n in nodes}

    def find(n: str) -> str:
        while root[n] != n:
            root[n] = root[root[n]]
            n = root[n]
        return n

    for a, b in edges:
        root[find(a)] = find(b)
    parts: dict[str, list[str]] = {}
    for n in nodes:
        parts.setdefault(find(n), []).append(n)
    return list(parts.values())


_SPACE = 3  # columns between boxes of a row
_DUMMY = "\0"  # prefix of the invisible nodes that carry edges across rows


def _rows(nodes: Sequence[str], edges: Sequence[Edge]) -> tuple[list[list[str]], list[Edge]]:
    """Rows of nodes, with dummy nodes splitting edges that skip rows, and the resulting segments."""
    depth = _depths(nodes, edges)
    rows: list[list[str]] = [[] for _ in range(max(depth.values()) + 1)]
    for n in nodes:
        rows[depth[n]].append(n)
    segments: list[Edge] = []
    for k, (a, b) in enumerate(edges):
        prev = a
        for d in range(depth[a] + 1, depth[b]):
            dummy = f"{_DUMMY}{k}.{d}"
            rows[d].append(dummy)
            segments.append((prev, dummy))
            prev = dummy
        segments.append((prev, b))
    parents: dict[str, list[str]] = {}
    for a, b in segments:
        parents.setdefault(b, []).append(a)
    for i in range(1, len(rows)):  # barycenter ordering against the row above
        above = {n: k for k, n in enumerate(rows[i - 1])}
        rows[i].sort(key=lambda n: sum(above[p] for p in parents.get(n, [])) / max(1, len(parents.get(n, []))))
    return rows, segments


def _width(n: str) -> int:
    return 1 if n.startswith(_DUMMY) else len(n) + 4


def _draw(nodes: Sequence[str], edges: Sequence[Edge], gap: int) -> list[str]:
    rows, segments = _rows(nodes, edges)
    widths = [sum(_width(n) for n in row) + _SPACE * (len(row) - 1) for row in rows]
    total = max(widths)
    box_h = 3
    pos: dict[str, tuple[int, int, int]] = {}  # node -> (top y, left x, width)
    y = 0
    for row, width in zip(rows, widths):
        x = (total - width) // 2
        for n in row:
            pos[n] = (y, x, _width(n))
            x += _width(n) + _SPACE
        y += box_h + gap
    canvas = [[" "] * total for _ in range(y - gap)]
    for a, b in segments:
        (ya, xa, wa), (yb, xb, wb) = pos[a], pos[b]
        x0, y0 = xa + wa // 2, ya + (0 if a.startswith(_DUMMY) else box_h)
        x1, y1 = xb + wb // 2, yb + (box_h - 1 if b.startswith(_DUMMY) else -1)
        steps = max(1, y1 - y0)
        for yy in range(y0, y1 + 1):
            canvas[yy][x0 + round((x1 - x0) * (yy - y0) / steps)] = "*"
    for n, (top, left, width) in pos.items():
        if n.startswith(_DUMMY):
            continue
        border = "+" + "-" * (width - 2) + "+"
        for k, text in enumerate((border, f"| {n} |", border)):
            canvas[top + k][left:left + width] = list(text)
    return ["".join(line).rstrip() for line in canvas]


def to_ascii(nodes: Sequence[str], edges: Sequence[Edge], *, gap: int = 3) -> str:
    """Boxes joined by ``*`` lines, one drawing per connected part, parts separated by a blank line."""
    if not nodes:
        return ""
    drawings = []
    for part in _components(nodes, edges):
        keep = set(part)
        drawings.append("\n".join(_draw(part, [e for e in edges if e[0] in keep], gap)))
    return "\n\n".join(drawings) + "\n"
