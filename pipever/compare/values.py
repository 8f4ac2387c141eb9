"""Metrics files to values: parsing by format and the flat ``{dotted.key: value}`` view.

Formats by suffix: JSON, TOML, CSV/TSV and YAML (the default, as DVC reads ``.yaml``/``.yml``).
A CSV or TSV metrics file is a log of rows: its metrics are the *last* row's columns whose value is
a number (non-numeric columns such as a timestamp or a name are left out).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

from pipever import yamlio
from pipever.errors import SchemaError
from pipever.pipeline.params import flatten, parse_params

METRIC_SUFFIXES = (".json", ".yaml", ".yml", ".toml", ".csv", ".tsv")


def is_table(file: str) -> bool:
    return file.lower().endswith((".csv", ".tsv"))


def number(text: str) -> int | float | str:
    """A CSV cell as an int or a float when it reads as one, else the text itself."""
    stripped = text.strip()
    try:
        return int(stripped)
    except ValueError:
        pass
    try:
        return float(stripped)
    except ValueError:
        return text


def read_table(data: bytes, file: str, *, header: bool = True) -> list[dict[str, Any]]:
    """Rows of a CSV (or, by suffix, TSV) file, cells converted by ``number``.

    Without a header the columns are named ``0``, ``1``, ...
    """
    text = _decode(data, file)
    delimiter = "\t" if file.lower().endswith(".tsv") else ","
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if r]
    if not rows:
        return []
    names = [c.strip() for c in rows[0]] if header else [str(i) for i in range(len(rows[0]))]
    body = rows[1:] if header else rows
    out = []
    for index, row in enumerate(body, start=2 if header else 1):
        if len(row) != len(names):
            raise SchemaError(file, f"row has {len(row)} columns, the header has {len(names)}", line=index)
        out.append({name: number(cell) for name, cell in zip(names, row)})
    return out


def parse_metrics(data: bytes, file: str) -> dict[str, Any]:
    """A metrics file's values (nested as written); SchemaError naming the file when unreadable."""
    if is_table(file):
        rows = read_table(data, file)
        last = rows[-1] if rows else {}
        return {k: v for k, v in last.items() if is_number(v)}
    if file.lower().endswith(".toml"):
        return parse_params(_decode(data, file), file)
    doc = parse_document(data, file)
    if doc is None:
        return {}
    if not isinstance(doc, Mapping):
        raise SchemaError(file, "a metrics file must hold a mapping of names to values")
    return dict(doc)


def parse_document(data: bytes, file: str) -> Any:
    """Any JSON/YAML document (a plots file may hold a list at the top)."""
    text = _decode(data, file)
    if file.lower().endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SchemaError(file, f"invalid JSON: {exc.msg}", line=exc.lineno) from exc
        except RecursionError:
            raise SchemaError(file, "nested too deeply") from None
    return yamlio.load(text, file)


def flat_metrics(data: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted leaf keys; lists are values, as DVC shows them."""
    return flatten(data)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _decode(data: bytes, file: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SchemaError(file, "not UTF-8 text") from exc
