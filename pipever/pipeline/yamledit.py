"""Edits of ``pv.yaml`` text that keep everything else as the user wrote it (order, comments,
quoting): add or replace a stage, remove stages, set or clear a stage flag (``frozen``).

Edits work on line ranges found through the YAML node marks of block-style mappings. When the
part to edit is written in flow style (``stages: {a: {...}}``), the file is loaded and dumped again
instead, which keeps the content but not the comments. Callers validate the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from pipever import yamlio
from pipever.errors import SchemaError

Body = Mapping[str, Any]


def _compose(text: str, file: str) -> yaml.MappingNode | None:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise SchemaError(file, f"invalid YAML: {exc}") from exc
    if node is None:
        return None
    if not isinstance(node, yaml.MappingNode):
        raise SchemaError(file, "the top level must be a mapping with 'stages'", line=1)
    return node


def _get(node: yaml.MappingNode, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return k, v
    return None


def _block(node: yaml.Node) -> bool:
    return isinstance(node, yaml.MappingNode) and not node.flow_style and bool(node.value)


def _end_line(node: yaml.Node) -> int:
    """The line before which text following ``node``'s block may be inserted."""
    mark = node.end_mark
    return mark.line if mark.column == 0 else mark.line + 1


def _indent(body: Body, spaces: int) -> list[str]:
    pad = " " * spaces
    return [pad + ln if ln else ln for ln in yamlio.dump(dict(body)).splitlines()]


def _stage_lines(name: str, body: Body, col: int) -> list[str]:
    return _indent({name: dict(body)}, col)


def _filler(line: str) -> bool:
    return not line.strip() or line.lstrip().startswith("#")


def _spans(stages: yaml.MappingNode, lines: list[str], names: list[str]) -> list[tuple[int, int]]:
    """Line ranges of the entries ``names`` of a block mapping; blank and comment lines before
    the next entry are left to it."""
    spans = []
    for i, (k, v) in enumerate(stages.value):
        if isinstance(k, yaml.ScalarNode) and k.value in names:
            start = k.start_mark.line
            end = stages.value[i + 1][0].start_mark.line if i + 1 < len(stages.value) else _end_line(v)
            while end > start + 1 and _filler(lines[end - 1]):
                end -= 1
            spans.append((start, end))
    return spans


def _redump(text: str, file: str, change: Any) -> str:
    data = yamlio.load(text, file) or {}
    change(data)
    return yamlio.dump(data)


def add_stage(text: str, name: str, body: Body, *, file: str = "pv.yaml") -> str:
    """``text`` with stage ``name`` set to ``body``: replaced where it was, else appended."""
    if text and not text.endswith("\n"):
        text += "\n"
    root = _compose(text, file)
    found = _get(root, "stages") if root is not None else None
    if found is None:
        prefix = text if text.strip() else ""
        return prefix + "\n".join(["stages:", *_stage_lines(name, body, 2)]) + "\n"
    key, stages = found
    if not _block(stages):
        if isinstance(stages, yaml.ScalarNode) and stages.value in ("", "~", "null"):
            lines = text.splitlines()
            at = key.start_mark.line
            lines[at:at + 1] = ["stages:", *_stage_lines(name, body, 2)]
            return "\n".join(lines) + "\n"

        def put(data: dict[str, Any]) -> None:
            data.setdefault("stages", {})[name] = dict(body)

        return _redump(text, file, put)
    assert isinstance(stages, yaml.MappingNode)
    lines = text.splitlines()
    col = stages.value[0][0].start_mark.column
    new = _stage_lines(name, body, col)
    for start, end in _spans(stages, lines, [name]):
        lines[start:end] = new
        return "\n".join(lines) + "\n"
    at = _end_line(stages.value[-1][1])
    while at > 0 and _filler(lines[at - 1]):
        at -= 1
    lines[at:at] = new
    return "\n".join(lines) + "\n"


def remove_stages(text: str, names: list[str], *, file: str = "pv.yaml") -> str:
    """``text`` without the stages (or foreach/matrix groups) ``names``."""
    root = _compose(text, file)
    found = _get(root, "stages") if root is not None else None
    if found is None:
        return text
    stages = found[1]
    if not _block(stages):
        def drop(data: dict[str, Any]) -> None:
            for n in names:
                data.get("stages", {}).pop(n, None)

        return _redump(text, file, drop)
    assert isinstance(stages, yaml.MappingNode)
    lines = text.splitlines()
    for start, end in reversed(_spans(stages, lines, names)):
        del lines[start:end]
    return "\n".join(lines) + "\n" if lines else ""


def _stage_mapping(root: yaml.MappingNode | None, name: str) -> yaml.Node | None:
    """The mapping holding the keys of stage (or group) ``name``: a foreach group's ``do``."""
    found = _get(root, "stages") if root is not None else None
    if found is None or not isinstance(found[1], yaml.MappingNode):
        return None
    entry = _get(found[1], name)
    if entry is None:
        return None
    node = entry[1]
    if isinstance(node, yaml.MappingNode) and _get(node, "foreach") is not None:
        do = _get(node, "do")
        return do[1] if do is not None else None
    return node


def _flag_in_data(name: str, key: str, value: bool) -> Any:
    def change(data: dict[str, Any]) -> None:
        target = data["stages"][name]
        if "foreach" in target:
            target = target["do"]
        if value:
            target[key] = True
        else:
            target.pop(key, None)

    return change


def set_flag(text: str, name: str, key: str, value: bool, *, file: str = "pv.yaml") -> str:
    """Set ``key: true`` in stage ``name`` (at the end of its keys, as DVC writes it), or remove
    the key when ``value`` is False."""
    if text and not text.endswith("\n"):
        text += "\n"
    node = _stage_mapping(_compose(text, file), name)
    if node is None or not _block(node):
        return _redump(text, file, _flag_in_data(name, key, value))
    assert isinstance(node, yaml.MappingNode)
    lines = text.splitlines()
    found = _get(node, key)
    if found is not None:
        k, v = found
        if k.start_mark.line != v.end_mark.line or len(node.value) == 1:
            return _redump(text, file, _flag_in_data(name, key, value))
        del lines[k.start_mark.line]
        node = _stage_mapping(_compose("\n".join(lines) + "\n", file), name)
        assert isinstance(node, yaml.MappingNode)
    if value:
        col = node.value[0][0].start_mark.column
        at = _end_line(node.value[-1][1])
        while at > 0 and _filler(lines[at - 1]):
            at -= 1
        lines.insert(at, " " * col + f"{key}: true")
    return "\n".join(lines) + "\n"
