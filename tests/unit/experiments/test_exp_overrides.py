"""-S overrides: parsing FILE:KEY=VALUE, YAML scalars, in-place YAML edits, JSON rewrites, errors."""

from __future__ import annotations

import json

import pytest

from pipever.errors import ExperimentError
from pipever.experiments.overrides import Override, apply_overrides, parse_override, parse_value


def test_key_value_means_params_yaml() -> None:
    assert parse_override("train.lr=0.1") == Override("params.yaml", "train.lr", 0.1, "train.lr=0.1")


def test_file_key_value() -> None:
    o = parse_override("conf/p.json:model.layers.0=64")
    assert (o.file, o.key, o.value) == ("conf/p.json", "model.layers.0", 64)


@pytest.mark.parametrize(("raw", "value"), [
    ("0.1", 0.1), ("3", 3), ("1e-3", 0.001), ("-2E5", -200000.0), ("true", True), ("adam", "adam"),
    ("'3'", "3"), ("[1, 2]", [1, 2]), ("", None), ("null", None), ("a=b", "a=b"), ("{x: 1}", {"x": 1}),
    ("[unclosed", "[unclosed"),
])
def test_values_are_yaml_scalars(raw: str, value: object) -> None:
    assert parse_value(raw) == value and type(parse_value(raw)) is type(value)


@pytest.mark.parametrize(("text", "why"), [
    ("train.lr", "expected FILE:KEY=VALUE"), ("=1", "expected FILE:KEY=VALUE"), ("p.yaml:=1", "is not a param key"),
    ("a..b=1", "is not a param key"), ("../p.yaml:a=1", "contains '..'"), ("/etc/p.yaml:a=1", "is absolute"),
    (".git/config:a=1", "points into '.git'"),
])
def test_bad_overrides(text: str, why: str) -> None:
    with pytest.raises(ExperimentError) as err:
        parse_override(text)
    assert err.value.message.startswith(f"invalid -S '{text}': ") and why in err.value.message


YAML = """\
# training params
train:
  lr: 0.1   # learning rate
  name: "base"
  layers: [8, 16]
  nested:
    deep: yes
"""


def test_yaml_edits_keep_comments_and_layout() -> None:
    out = apply_overrides(YAML, "params.yaml", [parse_override("train.lr=0.25"), parse_override("train.name=x y"),
                                               parse_override("train.layers.1=32"),
                                               parse_override("train.nested.deep=no")])
    assert out == YAML.replace("0.1 ", "0.25 ").replace('"base"', "x y").replace("16]", "32]").replace("yes", "false")


def test_yaml_strings_that_look_like_other_types_stay_strings() -> None:
    out = apply_overrides("a: 1\n", "p.yaml", [parse_override("a='true'")])
    assert out == "a: 'true'\n"


def test_yaml_collection_value_rewrites_the_file() -> None:
    out = apply_overrides("a: 1\nb: [1]\n", "p.yaml", [parse_override("b=[2, 3]")])
    assert out == "a: 1\nb:\n- 2\n- 3\n"


def test_json_is_rewritten_with_its_indentation() -> None:
    text = '{\n    "lr": 0.1,\n    "opt": {"name": "sgd"}\n}\n'
    out = apply_overrides(text, "p.json", [parse_override("p.json:opt.name=adam")])
    assert json.loads(out) == {"lr": 0.1, "opt": {"name": "adam"}} and out.startswith('{\n    "lr"') and out.endswith("}\n")


def test_unknown_key_is_an_error() -> None:
    with pytest.raises(ExperimentError) as err:
        apply_overrides(YAML, "params.yaml", [parse_override("train.nope=1")])
    assert err.value.message == "unknown param 'train.nope' in 'params.yaml' (from -S 'train.nope=1')"


def test_toml_and_python_cannot_be_set() -> None:
    with pytest.raises(ExperimentError, match="only YAML and JSON params files"):
        apply_overrides("a = 1\n", "p.toml", [parse_override("p.toml:a=2")])
