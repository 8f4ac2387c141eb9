"""Metric checks: syntax, lookup, comparison, and the messages a refused promotion shows."""

from __future__ import annotations

import pytest

from pipever.errors import RegistryError
from pipever.registry import gates
from pipever.registry.gates import Check


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.json:acc>=0.9", Check("metrics.json", "acc", ">=", "0.9")),
        ("metrics.json:acc >= 0.9", Check("metrics.json", "acc", ">=", "0.9")),
        ("eval/m.yaml:test.loss<0.5", Check("eval/m.yaml", "test.loss", "<", "0.5")),
        ("m.json:a>1", Check("m.json", "a", ">", "1")),
        ("m.json:a<=1", Check("m.json", "a", "<=", "1")),
        ("m.json:status==ok", Check("m.json", "status", "==", "ok")),
    ],
)
def test_parse_check(text: str, expected: Check) -> None:
    assert gates.parse_check(text) == expected


@pytest.mark.parametrize("text", ["acc>=0.9", "m.json:acc", "m.json:acc=>1", "m.json:>=1", "m.json:acc>=", "m.json:acc!=1"])
def test_invalid_check_names_the_syntax(text: str) -> None:
    with pytest.raises(RegistryError) as exc:
        gates.parse_check(text)
    assert exc.value.message == f"invalid metric check '{text}' in --require"
    assert "FILE:KEY OP VALUE" in (exc.value.hint or "")


def test_nested_and_flat_keys() -> None:
    data = {"eval": {"acc": 0.93, "f1.macro": 0.5}, "train.loss": 0.1}
    assert gates.lookup(data, "eval.acc") == 0.93
    assert gates.lookup(data, "eval.f1.macro") == 0.5
    assert gates.lookup(data, "train.loss") == 0.1
    assert gates.lookup(data, "eval.nope") is gates._MISSING


@pytest.mark.parametrize(
    ("check", "value", "passed"),
    [("m.json:acc>=0.9", 0.9, True), ("m.json:acc>0.9", 0.9, False), ("m.json:acc<=0.9", 0.91, False),
     ("m.json:acc<1", 0.5, True), ("m.json:acc==1", 1, True), ("m.json:acc==ok", "ok", True),
     ("m.json:acc>=0.9", "0.95", True), ("m.json:acc==true", True, True)],
)
def test_evaluate(check: str, value: object, passed: bool) -> None:
    assert gates.evaluate(gates.parse_check(check), {"acc": value}).passed is passed


def test_failure_messages_name_the_check_and_the_actual_value() -> None:
    check = gates.parse_check("metrics.json:acc>=0.9")
    assert gates.evaluate(check, {"acc": 0.85}).describe() == "'metrics.json:acc>=0.9' failed (acc = 0.85)"
    assert gates.evaluate(check, {}).describe() == "'metrics.json:acc>=0.9' failed: 'acc' is not in 'metrics.json'"
    assert gates.evaluate(check, {"acc": "high"}).describe() == "'metrics.json:acc>=0.9' failed: acc = \"high\" is not a number"


def test_parse_metrics_formats() -> None:
    assert gates.parse_metrics(b'{"a": 1}', "m.json") == {"a": 1}
    assert gates.parse_metrics(b"a: 1\n", "m.yaml") == {"a": 1}
    assert gates.parse_metrics(b"a = 1\n", "m.toml") == {"a": 1}
    with pytest.raises(RegistryError, match="cannot read metrics file 'm.json'"):
        gates.parse_metrics(b"{", "m.json")
