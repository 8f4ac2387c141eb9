"""``${...}`` templating of ``pv.yaml`` (DVC's dvc.yaml semantics).

Values come from ``params.yaml`` and ``vars`` (files or inline dicts), merged in order; redefining a
value is an error, merging two dicts is not. ``${a.b}``, ``${a.list[0]}`` and ``${a.list.0}`` reach
into nested data. A string that is exactly one ``${...}`` takes the value itself (a list for
``foreach``, a number...); otherwise values are formatted into the string, and a dict is unpacked
as ``--key value`` arguments inside ``cmd`` only. ``\\${`` escapes a literal ``${``.

Values read from files are tracked: the stage that uses them depends on them like on ``params``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from pipever.pipeline.marked import MDict, MList

_EXPR = re.compile(r"(\\)?\$\{([^}]*)\}")
_TOKEN = re.compile(r"\.?([^.\[\]\s]+)|\[\s*(\d+)\s*\]")


class InterpolationError(Exception):
    """A problem with one ``${...}``: schema.py turns it into a SchemaError with file:line."""


class ConflictError(Exception):
    """Merging vars would redefine ``key``."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def parse_expr(expr: str) -> tuple[str | int, ...]:
    """``a.b[0].c`` -> ``('a', 'b', 0, 'c')``; InterpolationError when malformed."""
    text = expr.strip()
    parts: list[str | int] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        dotted = m is not None and m.group(0).startswith(".")
        if m is None or (not parts and m.group(0).startswith((".", "["))) or (
            parts and m.group(1) is not None and not dotted
        ):
            raise InterpolationError(f"invalid expression '${{{expr.strip()}}}'")
        if m.group(2) is not None:
            parts.append(int(m.group(2)))
        else:
            name = m.group(1)
            parts.append(int(name) if parts and name.isdigit() else name)
        pos = m.end()
    if not parts:
        raise InterpolationError("empty expression '${}'")
    return tuple(parts)


def merge_into(dst: dict[str, Any], src: Mapping[Any, Any], prefix: str = "") -> None:
    """Deep-merge ``src`` into ``dst``; ConflictError when a non-dict value would be replaced.

    Nested dicts of ``dst`` are copied before they change, so contexts can share them.
    """
    for key, value in src.items():
        name = f"{prefix}{key}"
        if key in dst:
            old = dst[key]
            if isinstance(old, dict) and isinstance(value, Mapping):
                dst[key] = merged = dict(old)
                merge_into(merged, value, name + ".")
                continue
            raise ConflictError(name)
        dst[key] = value


class Context:
    """Values for ``${...}``, each layer remembering the file it came from (None for inline)."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.layers: list[tuple[str | None, Mapping[Any, Any]]] = []
        self.used: dict[str, dict[str, Any]] = {}  # file -> dotted key -> value, of file values used

    def add(self, values: Mapping[Any, Any], source: str | None) -> None:
        """Merge a layer in; ConflictError on a redefinition."""
        merge_into(self.data, values)
        self.layers.append((source, values))

    def child(self) -> Context:
        """A context to add more values to without changing this one (nothing is tracked yet)."""
        new = Context()
        new.data = dict(self.data)
        new.layers = list(self.layers)
        return new

    def lookup(self, expr: str) -> Any:
        parts = parse_expr(expr)
        value = _walk(self.data, parts)
        if value is _MISSING:
            raise InterpolationError(f"undefined variable '${{{expr.strip()}}}'")
        self._track(parts)
        return value

    def _track(self, parts: tuple[str | int, ...]) -> None:
        keys: list[str] = []
        for part in parts:
            if isinstance(part, int):
                break
            keys.append(part)
        for source, layer in self.layers:
            if source is None or not keys:
                continue
            found = _walk(layer, tuple(keys))
            if found is not _MISSING:
                self.used.setdefault(source, {})[".".join(keys)] = found


_MISSING: Any = object()


def _walk(data: Any, parts: tuple[str | int, ...]) -> Any:
    cur = data
    for part in parts:
        if isinstance(cur, Mapping):
            if part in cur:
                cur = cur[part]
            elif isinstance(part, int) and str(part) in cur:
                cur = cur[str(part)]
            else:
                return _MISSING
        elif isinstance(cur, list) and isinstance(part, int):
            if part >= len(cur):
                return _MISSING
            cur = cur[part]
        else:
            return _MISSING
    return cur


def to_str(value: Any) -> str:
    """How a scalar is written into a string: booleans as ``true``/``false`` (as DVC does)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _quote(text: str) -> str:
    return f"'{text}'" if "'" not in text else shlex.quote(text)


def _arg(value: Any) -> str:
    return _quote(value) if isinstance(value, str) else to_str(value)


def _unpack(value: Mapping[Any, Any], prefix: str = "") -> list[str]:
    """A dict as command-line options: ``--k 'v'``, ``--flag`` for true, ``--l 1 2`` for lists."""
    args: list[str] = []
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping):
            args.extend(_unpack(item, name + "."))
        elif isinstance(item, bool):
            if item:
                args.append(f"--{name}")
        elif isinstance(item, list):
            args.append(f"--{name}")
            args.extend(_arg(x) for x in item)
        else:
            args.extend((f"--{name}", _arg(item)))
    return args


def render_string(text: str, ctx: Context, *, in_cmd: bool = False) -> Any:
    """Resolve the ``${...}`` in one string (see the module docstring)."""
    if "${" not in text:
        return text
    whole = _EXPR.fullmatch(text)
    if whole and not whole.group(1) and not in_cmd:
        return ctx.lookup(whole.group(2))

    def repl(m: re.Match[str]) -> str:
        if m.group(1):
            return "${" + m.group(2) + "}"
        value = ctx.lookup(m.group(2))
        if isinstance(value, Mapping) and in_cmd:
            return " ".join(_unpack(value))
        if isinstance(value, (Mapping, list)):
            kind = "a dict" if isinstance(value, Mapping) else "a list"
            where = "" if in_cmd else " (a dict is unpacked into 'cmd' only)"
            raise InterpolationError(f"cannot put {kind} into a string: '${{{m.group(2).strip()}}}'{where}")
        return to_str(value)

    return _EXPR.sub(repl, text)


Fail = Callable[[InterpolationError, Any, Any], NoReturn]


def render(value: Any, ctx: Context, *, fail: Fail, in_cmd: bool = False) -> Any:
    """Resolve every string and mapping key inside ``value``, keeping MDict/MList line marks.

    ``fail(exc, container, key)`` turns an InterpolationError at ``container[key]`` into the
    caller's error (it must raise).
    """
    if isinstance(value, str):
        return render_string(value, ctx, in_cmd=in_cmd)
    if isinstance(value, Mapping):
        out = MDict(line=getattr(value, "line", None))
        for key, item in value.items():
            child_cmd = in_cmd or key == "cmd"
            try:
                new_key = render_string(key, ctx) if isinstance(key, str) else key
                if isinstance(new_key, (Mapping, list)):
                    raise InterpolationError(f"a key cannot be a dict or a list: '{key}'")
                new_item = (render_string(item, ctx, in_cmd=child_cmd) if isinstance(item, str)
                            else render(item, ctx, fail=fail, in_cmd=child_cmd))
            except InterpolationError as exc:
                fail(exc, value, key)
            out[new_key] = new_item
            if isinstance(value, MDict) and key in value.key_lines:
                out.key_lines[new_key] = value.key_lines[key]
        return out
    if isinstance(value, list):
        lst = MList(line=getattr(value, "line", None))
        for index, item in enumerate(value):
            try:
                lst.append(render_string(item, ctx, in_cmd=in_cmd) if isinstance(item, str)
                           else render(item, ctx, fail=fail, in_cmd=in_cmd))
            except InterpolationError as exc:
                fail(exc, value, index)
            lst.item_lines.append(value.line_of(index) if isinstance(value, MList) else None)
        return lst
    return value
