"""``-S FILE:KEY=VALUE`` overrides: parsing, and applying them to a params file's text.

``KEY=VALUE`` means ``params.yaml``. ``KEY`` is dotted (``train.lr``, ``layers.0``) and must
already exist in the file. ``VALUE`` is a YAML scalar (``yaml.safe_load``: ``0.1``, ``true``,
``adam``, ``[1, 2]``), except that numbers in exponent form (``1e-3``) are numbers, as in
YAML 1.2. YAML files are edited in place, so comments and layout survive: only the text of the
changed value is replaced. JSON files are rewritten with their indentation. Other formats
(TOML, Python) cannot be changed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from pipever.errors import ExperimentError, PathOutsideRepoError, PvError
from pipever.paths import check_relpath
from pipever.pipeline.params import MISSING, get_value, parse_params
from pipever.pipeline.stage import DEFAULT_PARAMS_FILE

_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_KEY_PART = re.compile(r"[^.\s]+")
EDITABLE = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Override:
    file: str  # repo-relative params file
    key: str  # dotted
    value: Any
    text: str  # as the user wrote it (for messages and the experiment's commit message)


def parse_override(text: str) -> Override:
    """One ``-S`` argument; ExperimentError naming it when it is malformed."""
    left, eq, raw = text.partition("=")
    if not eq or not left.strip():
        raise _bad(text, "expected FILE:KEY=VALUE or KEY=VALUE")
    file, colon, key = left.rpartition(":")
    if not colon:
        file = DEFAULT_PARAMS_FILE
    key = key.strip()
    if not key or not all(_KEY_PART.fullmatch(p) for p in key.split(".")):
        raise _bad(text, f"'{key}' is not a param key (dotted names like 'train.lr')")
    try:
        file = check_relpath(file.strip())
    except PathOutsideRepoError as exc:
        raise _bad(text, f"'{file}' {exc.message.split(' ', 2)[-1]}") from None
    return Override(file, key, parse_value(raw), text)


def _bad(text: str, why: str) -> ExperimentError:
    return ExperimentError(f"invalid -S '{text}': {why}", hint="write it as -S params.yaml:train.lr=0.01")


def parse_value(raw: str) -> Any:
    """A YAML scalar; ``1e-3`` reads as a number (PyYAML's YAML 1.1 would keep it a string)."""
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw
    if isinstance(value, str) and _NUMBER.fullmatch(raw.strip()):  # unquoted only: '3' stays a string
        number = float(value)
        return int(number) if number.is_integer() and "." not in value and "e" not in value.lower() else number
    return value


def group_by_file(overrides: Iterable[Override]) -> dict[str, list[Override]]:
    out: dict[str, list[Override]] = {}
    for o in overrides:
        out.setdefault(o.file, []).append(o)
    return out


def apply_overrides(text: str, file: str, overrides: Iterable[Override]) -> str:
    """``text`` of params file ``file`` with each override's key set; ExperimentError for a key the
    file does not have, or a format that cannot be written."""
    if not file.lower().endswith(EDITABLE):
        raise ExperimentError(f"cannot change params in '{file}': only YAML and JSON params files can be set with -S",
                              hint=f"edit '{file}' before 'pv exp run'")
    for o in overrides:
        if get_value(parse_params(text, file), o.key) is MISSING:
            raise ExperimentError(f"unknown param '{o.key}' in '{file}' (from -S '{o.text}')",
                                  hint=f"use a key that '{file}' has; see them with 'pv params diff --all'")
        text = _set_json(text, o) if file.lower().endswith(".json") else _set_yaml(text, file, o)
    return text


def _set_yaml(text: str, file: str, o: Override) -> str:
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    target = _node_at(node, o.key.split("."))
    if isinstance(target, yaml.ScalarNode) and not isinstance(o.value, (dict, list)):
        start, end = target.start_mark.index, target.end_mark.index
        return text[:start] + _yaml_scalar(o.value) + text[end:]
    from pipever import yamlio

    data = yamlio.load(text, file)  # a collection replaced: dump again (comments are lost)
    _set(data, o.key.split("."), o.value)
    return yamlio.dump(data)


def _node_at(node: yaml.Node | None, parts: list[str]) -> yaml.Node | None:
    for part in parts:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
        else:
            return None
    return node


def _yaml_scalar(value: Any) -> str:
    style = '"' if isinstance(value, str) and ("\n" in value or "\r" in value) else None
    dumped = yaml.safe_dump(value, default_flow_style=True, default_style=style, width=1 << 30, allow_unicode=True)
    return dumped.removesuffix("\n").removesuffix("\n...").strip()


def _set_json(text: str, o: Override) -> str:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:  # parse_params has reported it already; for safety
        raise PvError(f"cannot read '{o.file}': {exc.msg}") from exc
    _set(data, o.key.split("."), o.value)
    indent = next((len(ln) - len(ln.lstrip(" ")) for ln in text.splitlines() if ln.startswith(" ")), None)
    out = json.dumps(data, indent=indent, ensure_ascii=False)
    return out + "\n" if text.endswith("\n") else out


def _set(data: Any, parts: list[str], value: Any) -> None:
    node = data
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value
