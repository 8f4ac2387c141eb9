"""Experiment names: one safe Git ref component; made-up names are readable and free."""

from __future__ import annotations

import random

import pytest

from pipever.errors import ExperimentError
from pipever.experiments.names import check_name, generate_name, is_valid_name, ref_of


@pytest.mark.parametrize("name", ["fast", "lr-0.1", "A_b+c", "exp.2", "9lives", "x" * 100])
def test_valid_names(name: str) -> None:
    assert is_valid_name(name)
    assert ref_of(name) == f"refs/exps/{name}"


@pytest.mark.parametrize("name", [
    "", "-x", ".hidden", "a/b", "a..b", "a.lock", "a.", "a b", "a~1", "a^", "a:b", "a?", "a*", "a[", "a\\b",
    "@{u}", "x" * 101, "tab\there", "é",
])
def test_invalid_names(name: str) -> None:
    assert not is_valid_name(name)
    with pytest.raises(ExperimentError) as err:
        check_name(name)
    assert err.value.render().startswith(f"invalid experiment name '{name}' — use letters, digits")


def test_generated_names_are_valid_and_avoid_taken_ones() -> None:
    rng = random.Random(1)
    first = generate_name(lambda n: False, rng)
    assert is_valid_name(first) and first.count("-") == 1
    taken = {first}
    assert generate_name(taken.__contains__, random.Random(1)) != first


def test_generated_name_gets_a_suffix_when_every_pair_is_taken() -> None:
    name = generate_name(lambda n: n.count("-") == 1, random.Random(0))
    assert name.endswith("-2") and is_valid_name(name)
