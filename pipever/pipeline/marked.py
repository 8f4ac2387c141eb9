"""YAML loading that keeps line numbers, for errors that point at ``pv.yaml:LINE``.

Mappings load as ``MDict`` and sequences as ``MList``: plain ``dict``/``list`` subclasses that
also carry the 1-based line of the node and of each key / item. Safe-loader semantics only,
duplicate keys rejected (a key given explicitly may override one merged in with ``<<``), and
alias bombs refused before construction.
"""

from __future__ import annotations

from typing import Any

import yaml

from pipever.errors import SchemaError

MAX_NODES = 1_000_000  # expanded size (aliases counted every time they are used)

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = "tag:yaml.org,2002:merge"


class MDict(dict[Any, Any]):
    """A mapping that remembers where it and each of its keys were written."""

    line: int | None = None
    key_lines: dict[Any, int]

    def __init__(self, *args: Any, line: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = line
        self.key_lines = {}

    def line_of(self, key: Any) -> int | None:
        return self.key_lines.get(key, self.line)


class MList(list[Any]):
    """A sequence that remembers where it and each of its items were written."""

    line: int | None = None
    item_lines: list[int | None]

    def __init__(self, *args: Any, line: int | None = None) -> None:
        super().__init__(*args)
        self.line = line
        self.item_lines = []

    def line_of(self, index: int) -> int | None:
        if 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.line


def line_in(container: Any, key: Any) -> int | None:
    """The line of ``container[key]`` when the container kept it, else None."""
    if isinstance(container, (MDict, MList)):
        return container.line_of(key)
    return None


class _MarkedLoader(_Base):  # type: ignore[misc]
    pass


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _construct_mapping(loader: Any, node: yaml.MappingNode) -> MDict:
    own = sum(1 for k, _ in node.value if k.tag != _MERGE_TAG)
    loader.flatten_mapping(node)
    merged = len(node.value) - own
    result = MDict(line=_line(node))
    explicit: set[Any] = set()
    for index, (key_node, value_node) in enumerate(node.value):
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(None, None, "unhashable key", key_node.start_mark) from None
        if index >= merged:
            if key in explicit:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key '{key}'", key_node.start_mark)
            explicit.add(key)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = _line(key_node)
    return result


def _construct_sequence(loader: Any, node: yaml.SequenceNode) -> MList:
    result = MList(line=_line(node))
    for child in node.value:
        result.append(loader.construct_object(child, deep=True))
        result.item_lines.append(_line(child))
    return result


_MarkedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_MarkedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _expanded_size(node: yaml.Node, memo: dict[int, int], active: set[int]) -> int:
    key = id(node)
    if key in memo:
        return memo[key]
    if key in active:
        raise yaml.constructor.ConstructorError(None, None, "recursive alias", node.start_mark)
    active.add(key)
    size = 1
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            size += _expanded_size(k, memo, active) + _expanded_size(v, memo, active)
            if size > MAX_NODES:
                break
    elif isinstance(node, yaml.SequenceNode):
        for v in node.value:
            size += _expanded_size(v, memo, active)
            if size > MAX_NODES:
                break
    active.discard(key)
    memo[key] = size
    return size


def load_marked(text: str | bytes, file: str) -> Any:
    """Parse one YAML document into MDict/MList/scalars; SchemaError naming ``file:line``."""
    loader = _MarkedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}, set()) > MAX_NODES:
            raise SchemaError(file, "invalid YAML: the document expands to too many nodes (alias bomb?)")
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise SchemaError(file, f"invalid YAML: {exc.problem or exc}", line=line) from exc
    except yaml.YAMLError as exc:
        raise SchemaError(file, f"invalid YAML: {exc}") from exc
    except RecursionError as exc:
        raise SchemaError(file, "invalid YAML: nested too deeply") from exc
    finally:
        loader.dispose()
