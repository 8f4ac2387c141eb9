"""``foreach``/``do`` and ``matrix`` entries of ``pv.yaml``, expanded into one definition per stage.

Naming follows DVC: ``name@<value>`` for a foreach list of scalars, ``name@<index>`` (0-based) when
any item is a list or a dict, ``name@<key>`` for a foreach dict; a matrix joins one part per
variable with ``-`` in the order the variables are written: the value for scalars,
``<variable><index>`` for lists and dicts (``train@linux-3.11-cfg0``).
Each generated stage gets its own Context with ``${item}`` (and ``${key}`` for a foreach dict).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipever.errors import SchemaError
from pipever.pipeline.interpolate import Context, InterpolationError, render_string, to_str
from pipever.pipeline.marked import MDict, line_in
from pipever.pipeline.stage import GROUP_SEP

FOREACH, DO, MATRIX = "foreach", "do", "matrix"


@dataclass(frozen=True)
class Generated:
    name: str
    definition: MDict
    context: Context


def _is_composite(value: Any) -> bool:
    return isinstance(value, (Mapping, list))


def _resolve_iterable(value: Any, ctx: Context, *, file: str, where: str, line: int | None) -> Any:
    if isinstance(value, str):
        try:
            value = render_string(value, ctx)
        except InterpolationError as exc:
            raise SchemaError(file, f"{where}: {exc}", line=line) from exc
    return value


def _bind(ctx: Context, values: dict[str, Any], *, file: str, where: str, line: int | None) -> Context:
    taken = [k for k in values if k in ctx.data]
    if taken:
        raise SchemaError(file, f"{where}: '{taken[0]}' is already defined in params or vars; "
                          "it cannot also be the foreach/matrix variable", line=line)
    child = ctx.child()
    child.add(values, None)
    return child


def expand_foreach(name: str, entry: MDict, ctx: Context, *, file: str) -> list[Generated]:
    where = f"stage '{name}'"
    extra = sorted(str(k) for k in entry if k not in (FOREACH, DO))
    if extra:
        raise SchemaError(file, f"{where}: '{extra[0]}' is not allowed next to 'foreach' (put it under 'do')",
                          line=line_in(entry, extra[0]))
    if DO not in entry:
        raise SchemaError(file, f"{where}: 'foreach' needs a 'do' section", line=entry.line)
    template = entry[DO]
    if not isinstance(template, MDict):
        raise SchemaError(file, f"{where}: 'do' must be a mapping of stage keys", line=line_in(entry, DO))
    line = line_in(entry, FOREACH)
    items = _resolve_iterable(entry[FOREACH], ctx, file=file, where=where, line=line)
    pairs: list[tuple[str, dict[str, Any]]]
    if isinstance(items, Mapping):
        pairs = [(to_str(k), {"key": to_str(k), "item": v}) for k, v in items.items()]
    elif isinstance(items, list):
        if any(_is_composite(v) for v in items):
            pairs = [(str(i), {"item": v}) for i, v in enumerate(items)]
        else:
            pairs = [(to_str(v), {"item": v}) for v in items]
    else:
        raise SchemaError(file, f"{where}: 'foreach' must be a list or a mapping", line=line)
    return _generate(name, template, ctx, pairs, file=file, line=line)


def expand_matrix(name: str, entry: MDict, ctx: Context, *, file: str) -> list[Generated]:
    where = f"stage '{name}'"
    matrix = entry[MATRIX]
    line = line_in(entry, MATRIX)
    if not isinstance(matrix, MDict) or not matrix:
        raise SchemaError(file, f"{where}: 'matrix' must be a mapping of names to lists of values", line=line)
    axes: list[list[tuple[str, Any]]] = []
    for var, raw in matrix.items():
        vline = line_in(matrix, var)
        if not isinstance(var, str):
            raise SchemaError(file, f"{where}: matrix variable names must be strings", line=vline)
        values = _resolve_iterable(raw, ctx, file=file, where=where, line=vline)
        if not isinstance(values, list):
            raise SchemaError(file, f"{where}: matrix variable '{var}' must be a list", line=vline)
        axes.append([(f"{var}{i}" if _is_composite(v) else to_str(v), v) for i, v in enumerate(values)])
    template = MDict((k, v) for k, v in entry.items() if k != MATRIX)
    template.line, template.key_lines = entry.line, dict(entry.key_lines)
    names = list(matrix.keys())
    pairs = [
        ("-".join(part for part, _ in combo), {"item": {n: v for n, (_, v) in zip(names, combo)}})
        for combo in itertools.product(*axes)
    ]
    return _generate(name, template, ctx, pairs, file=file, line=line)


def _generate(
    name: str, template: MDict, ctx: Context, pairs: list[tuple[str, dict[str, Any]]], *, file: str, line: int | None
) -> list[Generated]:
    seen: set[str] = set()
    out: list[Generated] = []
    for suffix, values in pairs:
        full = f"{name}{GROUP_SEP}{suffix}"
        if full in seen:
            raise SchemaError(file, f"stage '{name}' generates '{full}' twice (repeated value)", line=line)
        seen.add(full)
        child = _bind(ctx, values, file=file, where=f"stage '{full}'", line=line)
        out.append(Generated(full, template, child))
    return out
