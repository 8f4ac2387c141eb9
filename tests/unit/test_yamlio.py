"""``pipever.yamlio``: hostile YAML (alias bombs, huge texts) is a clear SchemaError naming the
file, found before anything expands it (issue 16, case 11)."""

from __future__ import annotations

import pytest

from pipever import yamlio
from pipever.errors import SchemaError


def bomb(levels: int = 9, width: int = 10) -> str:
    lines = ["a0: &a0 [lol]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_naming_the_file() -> None:
    with pytest.raises(SchemaError) as info:
        yamlio.load(bomb(), "params.yaml")
    assert info.value.file == "params.yaml"
    assert info.value.render().startswith("params.yaml:7: its aliases expand to more than 1000000 values"), info.value.render()


def test_a_recursive_alias_is_refused() -> None:
    with pytest.raises(SchemaError) as info:
        yamlio.load("a: &a [1, *a]\n", "metrics.yaml")
    assert "metrics.yaml" in info.value.render() and "refers to itself" in info.value.render()


def test_aliases_that_expand_modestly_still_load() -> None:
    text = "base: &b {lr: 0.1, epochs: 3}\ntrain: *b\n"
    assert yamlio.load(text, "params.yaml") == {
        "base": {"lr": 0.1, "epochs": 3}, "train": {"lr": 0.1, "epochs": 3}}
    assert yamlio.load(bomb(levels=3), "p.yaml")["a3"][0][0] == [["lol"]] * 10
    big = "".join(f"k{i}: [{i}, {i}]\n" for i in range(50_000))  # many values, no aliases
    assert len(yamlio.load(big, "big.yaml")) == 50_000


def test_a_text_over_the_size_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlio, "MAX_TEXT_BYTES", 1000)
    with pytest.raises(SchemaError) as info:
        yamlio.load("k: " + "x" * 2000 + "\n", "huge.yaml")
    assert "huge.yaml" in info.value.render() and "larger than" in info.value.render()
