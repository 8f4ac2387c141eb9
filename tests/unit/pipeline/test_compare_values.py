"""Metrics files to values: formats, CSV's last row, flattening, errors naming the file."""

from __future__ import annotations

import pytest

from pipever.compare.values import flat_metrics, number, parse_metrics, read_table
from pipever.errors import SchemaError


@pytest.mark.parametrize(("cell", "value"), [("3", 3), (" -2 ", -2), ("0.25", 0.25), ("1e-3", 0.001), ("abc", "abc"),
                                             ("", "")])
def test_number(cell: str, value: object) -> None:
    assert number(cell) == value and type(number(cell)) is type(value)


def test_read_table_with_and_without_header() -> None:
    assert read_table(b"a,b\n1,x\n2,0.5\n", "m.csv") == [{"a": 1, "b": "x"}, {"a": 2, "b": 0.5}]
    assert read_table(b"1\t2\n3\t4\n", "m.tsv", header=False) == [{"0": 1, "1": 2}, {"0": 3, "1": 4}]
    assert read_table(b"", "m.csv") == []


def test_read_table_rejects_ragged_rows() -> None:
    with pytest.raises(SchemaError) as info:
        read_table(b"a,b\n1,2\n3\n", "m.csv")
    assert info.value.render() == "m.csv:3: row has 1 columns, the header has 2 — fix 'm.csv'"


def test_csv_metrics_are_the_last_rows_numeric_columns() -> None:
    data = b"epoch,loss,stamp\n1,0.5,mon\n2,0.25,tue\n"
    assert parse_metrics(data, "log.csv") == {"epoch": 2, "loss": 0.25}
    assert parse_metrics(b"a,b\n", "empty.csv") == {}


@pytest.mark.parametrize(("file", "data"), [
    ("m.json", b'{"a": {"b": 1}, "c": true}'),
    ("m.yaml", b"a:\n  b: 1\nc: true\n"),
    ("m.yml", b"a: {b: 1}\nc: true\n"),
    ("m.toml", b"c = true\n[a]\nb = 1\n"),
])
def test_structured_formats(file: str, data: bytes) -> None:
    assert parse_metrics(data, file) == {"a": {"b": 1}, "c": True}


def test_bad_files_name_the_file() -> None:
    with pytest.raises(SchemaError, match=r"^m.json:1: invalid JSON"):
        parse_metrics(b"{", "m.json")
    with pytest.raises(SchemaError, match="a metrics file must hold a mapping"):
        parse_metrics(b"[1, 2]", "m.yaml")
    with pytest.raises(SchemaError, match="not UTF-8"):
        parse_metrics(b"\xff\xfe\x00", "m.json")
    assert parse_metrics(b"", "m.yaml") == {}


def test_flat_metrics_dots_nested_keys_and_keeps_lists() -> None:
    assert flat_metrics({"a": {"b": {"c": 1}}, "l": [1, 2], "e": {}}) == {"a.b.c": 1, "l": [1, 2], "e": {}}
