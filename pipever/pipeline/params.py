"""Params files and their values: parsing by format, dotted-key lookup, and the ``params diff`` core.

Formats (by suffix): YAML (``.yaml``/``.yml``), JSON, TOML, and Python files, which are read with
``ast`` (never executed): module-level ``NAME = literal`` and classes of such assignments.
Values are picked by dotted keys (``train.lr``, ``layers.0``).
"""

from __future__ import annotations

import ast
import enum
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pipever import yamlio
from pipever.errors import PvError, SchemaError
from pipever.pipeline.stage import ParamDep

SUFFIXES = (".yaml", ".yml", ".json", ".toml", ".py")


class _Missing:
    """The value of a key that is not there (distinct from a YAML null)."""

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


def is_params_file(name: str) -> bool:
    return name.lower().endswith(SUFFIXES)


def parse_params(text: str, file: str) -> dict[str, Any]:
    """Parse a params file's text by its suffix; SchemaError naming ``file`` when it is invalid."""
    lower = file.lower()
    if lower.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SchemaError(file, f"invalid JSON: {exc.msg}", line=exc.lineno) from exc
        except RecursionError:
            raise SchemaError(file, "nested too deeply") from None
    elif lower.endswith(".toml"):
        data = _parse_toml(text, file)
    elif lower.endswith(".py"):
        data = _parse_python(text, file)
    else:  # YAML is the default format, as for params.yaml
        data = yamlio.load(text, file)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SchemaError(file, "a params file must hold a mapping of names to values")
    return data


def _parse_toml(text: str, file: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib
        except ImportError as exc:
            raise PvError(f"cannot read '{file}': TOML needs Python 3.11+", hint="pip install tomli") from exc
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SchemaError(file, f"invalid TOML: {exc}") from exc
    return data


def _literal_assignments(body: list[ast.stmt], file: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for node in body:
        if isinstance(node, ast.ClassDef):
            out[node.name] = _literal_assignments(node.body, file)
            continue
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        try:
            literal = ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue  # not a literal: not a param
        value = _yaml_value(literal)
        for target in targets:
            if isinstance(target, ast.Name) and value is not MISSING:
                out[target.id] = value
    return out


def _yaml_value(value: Any) -> Any:
    """A Python literal as the YAML data it stands for (tuples are lists); MISSING for sets, bytes..."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        items = [_yaml_value(v) for v in value]
        return MISSING if any(v is MISSING for v in items) else items
    if isinstance(value, dict):
        pairs = {k: _yaml_value(v) for k, v in value.items()}
        ok = all(isinstance(k, str) for k in pairs) and all(v is not MISSING for v in pairs.values())
        return pairs if ok else MISSING
    return MISSING


def _parse_python(text: str, file: str) -> dict[str, Any]:
    try:
        tree = ast.parse(text, filename=file)
    except SyntaxError as exc:
        raise SchemaError(file, f"invalid Python: {exc.msg}", line=exc.lineno) from exc
    return _literal_assignments(tree.body, file)


def get_value(data: Any, key: str) -> Any:
    """The value at dotted ``key`` (list items by index), or MISSING."""
    cur = data
    for part in key.split("."):
        if isinstance(cur, Mapping) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return MISSING
    return cur


def select(data: Mapping[str, Any] | None, keys: tuple[str, ...] | None) -> dict[str, Any]:
    """``{key: value}`` of the present ``keys`` (every top-level key for None); missing ones left out."""
    if data is None:
        return {}
    if keys is None:
        return dict(data)
    out: dict[str, Any] = {}
    for key in keys:
        value = get_value(data, key)
        if value is not MISSING:
            out[key] = value
    return out


def current_params(
    deps: Iterable[ParamDep], files: Mapping[str, Mapping[str, Any] | None]
) -> dict[str, dict[str, Any]]:
    """Values a stage's params have now, as ``pv.lock`` records them: ``{file: {key: value}}``.

    ``files`` maps each params file to its parsed content, or None when it does not exist.
    """
    out: dict[str, dict[str, Any]] = {}
    for dep in deps:
        out.setdefault(dep.file, {}).update(select(files.get(dep.file), dep.keys))
    return out


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts to dotted leaf keys (lists stay values)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


class DiffKind(str, enum.Enum):
    ADDED = "added"
    DELETED = "deleted"
    MODIFIED = "modified"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class ParamRow:
    file: str
    key: str
    old: Any  # MISSING when added
    new: Any  # MISSING when deleted
    change: DiffKind


def diff_params(
    old: Mapping[str, Mapping[str, Any]], new: Mapping[str, Mapping[str, Any]], *, include_unchanged: bool = False
) -> list[ParamRow]:
    """Compare ``{file: {key: value}}`` snapshots leaf by leaf; rows sorted by file then key.

    Unchanged rows are included only with ``include_unchanged`` (``pv params diff --all``).
    """
    rows: list[ParamRow] = []
    for file in sorted(set(old) | set(new)):
        a, b = flatten(old.get(file, {})), flatten(new.get(file, {}))
        for key in sorted(set(a) | set(b)):
            va, vb = a.get(key, MISSING), b.get(key, MISSING)
            if va is MISSING:
                change = DiffKind.ADDED
            elif vb is MISSING:
                change = DiffKind.DELETED
            elif _same(va, vb):
                if not include_unchanged:
                    continue
                change = DiffKind.UNCHANGED
            else:
                change = DiffKind.MODIFIED
            rows.append(ParamRow(file, key, va, vb, change))
    return rows


def _same(a: Any, b: Any) -> bool:
    """Equal values of equal types (so ``1`` and ``true``, or ``1`` and ``1.0``, differ)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def same_value(a: Any, b: Any) -> bool:
    """Public form of the strict comparison that status and diff use."""
    return _same(a, b)
