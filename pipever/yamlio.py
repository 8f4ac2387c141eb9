"""YAML in and out: ``safe_load`` semantics only, duplicate keys rejected, errors with file:line."""

from __future__ import annotations

from typing import Any

import yaml

from pipever.errors import SchemaError

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _StrictLoader(_Base):  # type: ignore[misc]
    """SafeLoader that refuses duplicate mapping keys."""


def _construct_mapping(loader: Any, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(None, None, "unhashable key", key_node.start_mark) from None
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}'", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=deep)
    return result


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# Bounds for YAML from a commit: a text over MAX_TEXT_BYTES, or aliases that expand past
# MAX_EXPANDED values (a "billion laughs": a few hundred bytes naming 10^9 values, which hang and
# take gigabytes in whatever walks the result), are refused before anything is built.
MAX_TEXT_BYTES = 64 << 20
MAX_EXPANDED = 1_000_000


def load(text: str | bytes, file: str) -> Any:
    """Parse YAML ``text`` read from ``file``; SchemaError naming file:line on bad input."""
    if len(text) > MAX_TEXT_BYTES:
        raise SchemaError(file, f"larger than {MAX_TEXT_BYTES >> 20} MiB, too big for a YAML file pv reads")
    try:
        loader = _StrictLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _check_expansion(node, file)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or str(exc)
        raise SchemaError(file, f"invalid YAML: {problem}", line=line) from exc
    except yaml.YAMLError as exc:
        raise SchemaError(file, f"invalid YAML: {exc}") from exc


def _check_expansion(root: yaml.Node, file: str) -> None:
    """SchemaError when the document's aliases expand past MAX_EXPANDED values or refer to
    themselves. An alias is the very node it names, so the expanded size of each node is counted
    once (memoized): the check costs one pass over the nodes as written."""
    size: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            children = _children(node)
            size[key] = 1 + sum(size[id(c)] for c in children)
            active.discard(key)
            if size[key] > MAX_EXPANDED and size[key] > 2 * len(size):
                raise SchemaError(file, f"its aliases expand to more than {MAX_EXPANDED} values (a YAML alias bomb?)",
                                  line=node.start_mark.line + 1 if node.start_mark else None)
            continue
        if key in size:
            continue
        if key in active:
            raise SchemaError(file, "an alias refers to itself (a recursive YAML anchor)",
                              line=node.start_mark.line + 1 if node.start_mark else None)
        active.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in size)
    return None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def dump(data: Any) -> str:
    out: str = yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1000)
    return out
