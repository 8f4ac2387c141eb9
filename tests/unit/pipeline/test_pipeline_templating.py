"""${...} templating, vars, tracked params, foreach/do and matrix expansion."""

from __future__ import annotations

import textwrap

import pytest

from pipever.errors import SchemaError
from pipever.pipeline.interpolate import InterpolationError, parse_expr
from pipever.pipeline.schema import load_pipeline
from pipever.pipeline.stage import ParamDep, Pipeline

PARAMS = """\
prepare: {split: 0.2, seed: 20170428}
train: {lr: 0.01, epochs: 10, layers: [64, 32], flag: true}
models:
  us: {threshold: 10, filename: model-us.hdf5}
mydict:
  foo: foo
  bar: 1
  bool: true
  off: false
  nested: {baz: bar}
  list: [2, 3, qux]
"""


def load(text: str, extra: dict[str, str] | None = None) -> Pipeline:
    table = {"params.yaml": PARAMS, **(extra or {})}
    return load_pipeline(textwrap.dedent(text), "pv.yaml", read_file=table.get)


def error(text: str, extra: dict[str, str] | None = None) -> SchemaError:
    with pytest.raises(SchemaError) as info:
        load(text, extra)
    return info.value


@pytest.mark.parametrize("expr, parts", [
    ("a", ("a",)),
    (" a.b ", ("a", "b")),
    ("a.list[0]", ("a", "list", 0)),
    ("item.lst.1", ("item", "lst", 1)),
    ("a[1][2].c", ("a", 1, 2, "c")),
    ("my-key.x_y", ("my-key", "x_y")),
])
def test_parse_expr(expr: str, parts: tuple[object, ...]) -> None:
    assert parse_expr(expr) == parts


@pytest.mark.parametrize("expr", ["", ".a", "[0]", "a..b", "a b", "a[x]", "a[0]b"])
def test_parse_expr_rejects_malformed(expr: str) -> None:
    with pytest.raises(InterpolationError):
        parse_expr(expr)


def test_values_from_params_yaml_are_substituted_and_tracked() -> None:
    s = load("""
        stages:
          build:
            cmd: python train.py --thresh ${models.us.threshold} --out ${models.us.filename}
            outs:
            - ${models.us.filename}:
                cache: true
            params: [prepare.seed]
        """).stages["build"]
    assert s.cmd == ("python train.py --thresh 10 --out model-us.hdf5",)
    assert s.outs[0].path == "model-us.hdf5"
    assert s.params == (ParamDep("params.yaml", ("prepare.seed", "models.us.threshold", "models.us.filename")),)


def test_list_index_forms_and_booleans() -> None:
    s = load("stages:\n  s:\n    cmd: run ${train.layers[0]} ${train.layers.1} ${train.flag}\n").stages["s"]
    assert s.cmd == ("run 64 32 true",)
    assert s.params == (ParamDep("params.yaml", ("train.layers", "train.flag")),)


def test_dict_is_unpacked_in_cmd() -> None:
    s = load("stages:\n  s:\n    cmd: R train.r ${mydict}\n").stages["s"]
    assert s.cmd == ("R train.r --foo 'foo' --bar 1 --bool --nested.baz 'bar' --list 2 3 'qux'",)


def test_dict_is_refused_outside_cmd() -> None:
    err = error("stages:\n  s:\n    cmd: x\n    desc: see ${mydict}\n")
    assert "cannot put a dict into a string" in err.message and err.line == 4


def test_whole_string_keeps_the_type() -> None:
    s = load("stages:\n  s:\n    cmd: x\n    frozen: ${train.flag}\n    deps: ${deps}\n",
             {"params.yaml": PARAMS + "deps: [a.csv, b.csv]\n"}).stages["s"]
    assert s.frozen is True and s.deps == ("a.csv", "b.csv")


def test_escaped_expression_is_literal() -> None:
    assert load("stages:\n  s:\n    cmd: echo \\${HOME} ${train.lr}\n").stages["s"].cmd == ("echo ${HOME} 0.01",)


def test_undefined_variable_names_line() -> None:
    err = error("stages:\n  s:\n    cmd: x\n    deps:\n    - data/${nope}.csv\n")
    assert err.line == 5 and "undefined variable '${nope}'" in err.message


def test_vars_inline_and_files_merge_in_order() -> None:
    extra = {"conf.yaml": "tool: python\ngrp: {a: 1}\n",
             "extra.json": '{"feats": {"n": 3}, "clean": {"name": "c", "other": 1}, "grp": {"b": 2}}'}
    p = load("""
        vars:
          - conf.yaml
          - local: {dir: data}
          - extra.json:feats,clean.name
        stages:
          s:
            cmd: ${tool} ${local.dir} ${feats.n} ${clean.name} ${grp.a}
        """, extra)
    assert p.stages["s"].cmd == ("python data 3 c 1",)
    err = error("""
        vars: [conf.yaml, "extra.json:feats,clean.name"]
        stages:
          s: {cmd: "${clean.other}"}
        """, extra)
    assert "undefined variable '${clean.other}'" in err.message


def test_vars_values_and_tracking() -> None:
    s = load("""
        vars:
          - conf.yaml
          - local: {dir: data}
        stages:
          s:
            cmd: ${tool} ${local.dir} ${grp.a} ${grp.b}
        """, {"conf.yaml": "tool: python\ngrp: {a: 1}\n", "params.yaml": "grp: {b: 2}\n"}).stages["s"]
    assert s.cmd == ("python data 1 2",)
    assert set(s.params) == {ParamDep("params.yaml", ("grp.b",)), ParamDep("conf.yaml", ("tool", "grp.a"))}


def test_vars_redefinition_is_an_error() -> None:
    err = error("vars:\n  - train: {lr: 1}\nstages: {}\n")
    assert "redefines 'train.lr'" in err.message and err.line == 2


def test_vars_missing_file_and_missing_key() -> None:
    assert "file 'nope.yaml' does not exist" in error("vars: [nope.yaml]\n").message
    assert "'zz' is not defined in 'c.yaml'" in error("vars: ['c.yaml:zz']\n", {"c.yaml": "a: 1\n"}).message


def test_vars_file_outside_repo_is_refused() -> None:
    assert "contains '..'" in error("vars: [../secrets.yaml]\n").message


def test_params_yaml_listed_again_in_vars_is_not_a_conflict() -> None:
    assert load("vars: [params.yaml]\nstages:\n  s: {cmd: '${train.lr}'}\n").stages["s"].cmd == ("0.01",)


def test_stage_vars_are_local_and_relative_to_wdir() -> None:
    p = load("""
        stages:
          a:
            wdir: sub
            vars:
              - local.yaml:build
              - model: {filename: m.h5}
            cmd: python train.py ${build.epochs} --out ${model.filename}
            outs: [ "${model.filename}" ]
        """, {"sub/local.yaml": "build: {epochs: 5}\n"})
    a = p.stages["a"]
    assert a.cmd == ("python train.py 5 --out m.h5",) and a.outs[0].path == "sub/m.h5"
    assert ParamDep("sub/local.yaml", ("build.epochs",)) in a.params
    err = error("stages:\n  a:\n    vars: [{v: 1}]\n    cmd: x\n  b:\n    cmd: echo ${v}\n")
    assert err.line == 6


def test_foreach_list_of_scalars_uses_values() -> None:
    p = load("""
        stages:
          cleanups:
            foreach: [raw1, labels1, 3, true]
            do:
              cmd: clean.py "${item}"
              outs: ["${item}.cln"]
        """)
    assert list(p.stages) == ["cleanups@raw1", "cleanups@labels1", "cleanups@3", "cleanups@true"]
    assert p.stages["cleanups@raw1"].cmd == ('clean.py "raw1"',)
    assert p.stages["cleanups@3"].outs[0].path == "3.cln"
    assert p.groups == {"cleanups": ("cleanups@raw1", "cleanups@labels1", "cleanups@3", "cleanups@true")}
    assert p.resolve("cleanups") == p.groups["cleanups"] and p.resolve("cleanups@3") == ("cleanups@3",)
    assert p.stages["cleanups@3"].group == "cleanups"


def test_foreach_list_of_dicts_uses_indexes() -> None:
    p = load("""
        stages:
          train:
            foreach:
              - {epochs: 3, thresh: 10}
              - {epochs: 10, thresh: 15}
            do:
              cmd: python train.py ${item.epochs} ${item.thresh}
        """)
    assert {n: s.cmd for n, s in p.stages.items()} == {
        "train@0": ("python train.py 3 10",), "train@1": ("python train.py 10 15",)}


def test_foreach_dict_gives_key_and_item() -> None:
    p = load("""
        stages:
          build:
            foreach:
              uk: {epochs: 3, thresh: 10}
              us: {epochs: 10, thresh: 15}
            do:
              cmd: python train.py '${key}' ${item.epochs} ${item.thresh}
              outs: ["model-${key}.hdfs"]
        """)
    assert p.stages["build@uk"].cmd == ("python train.py 'uk' 3 10",)
    assert p.stages["build@us"].outs[0].path == "model-us.hdfs"


def test_foreach_from_params() -> None:
    p = load("stages:\n  m:\n    foreach: ${models}\n    do:\n      cmd: ./s.py ${key} ${item.filename}\n")
    assert p.stages["m@us"].cmd == ("./s.py us model-us.hdf5",)


@pytest.mark.parametrize("text, words", [
    ("stages:\n  s:\n    foreach: [a]\n    cmd: x\n    do: {cmd: y}\n", "not allowed next to 'foreach'"),
    ("stages:\n  s:\n    foreach: [a]\n", "needs a 'do'"),
    ("stages:\n  s:\n    foreach: 3\n    do: {cmd: x}\n", "must be a list or a mapping"),
    ("stages:\n  s:\n    foreach: ${train.lr}\n    do: {cmd: x}\n", "must be a list or a mapping"),
    ("stages:\n  s:\n    foreach: [a, a]\n    do: {cmd: x}\n", "generates 's@a' twice"),
    ("stages:\n  s:\n    do: {cmd: x}\n", "'do' needs 'foreach'"),
    ("stages:\n  s:\n    foreach: [a]\n    do: {cmd: '${item.x}'}\n", "undefined variable"),
    ("stages:\n  s:\n    matrix: [a]\n    cmd: x\n", "'matrix' must be a mapping"),
    ("stages:\n  s:\n    matrix: {os: linux}\n    cmd: x\n", "'os' must be a list"),
])
def test_foreach_and_matrix_errors(text: str, words: str) -> None:
    err = error(text)
    assert words in err.message and err.line is not None


def test_iteration_variable_cannot_shadow_a_param() -> None:
    err = error("stages:\n  s:\n    foreach: [a]\n    do: {cmd: x}\n", {"params.yaml": "item: 1\n"})
    assert "'item' is already defined" in err.message


def test_matrix_names_and_items() -> None:
    p = load("""
        stages:
          stage1:
            matrix:
              os: [windows, linux]
              pyv: ["3.9", "3.10"]
              cfg:
                - {arg1: 1}
              lst:
                - [1, 2]
            cmd: echo ${item.os} ${item.pyv} ${item.cfg.arg1} ${item.lst.0} ${item.lst[1]}
            outs: ["out-${item.os}-${item.pyv}"]
        """)
    assert list(p.stages) == [
        "stage1@windows-3.9-cfg0-lst0", "stage1@windows-3.10-cfg0-lst0",
        "stage1@linux-3.9-cfg0-lst0", "stage1@linux-3.10-cfg0-lst0",
    ]
    s = p.stages["stage1@linux-3.10-cfg0-lst0"]
    assert s.cmd == ("echo linux 3.10 1 1 2",) and s.outs[0].path == "out-linux-3.10"
    assert p.groups["stage1"][0] == "stage1@windows-3.9-cfg0-lst0"


def test_matrix_values_from_params() -> None:
    p = load("stages:\n  t:\n    matrix:\n      lr: ${lrs}\n    cmd: t ${item.lr}\n",
             {"params.yaml": "lrs: [0.1, 0.01]\n"})
    assert list(p.stages) == ["t@0.1", "t@0.01"]


def test_empty_foreach_makes_an_empty_group() -> None:
    p = load("stages:\n  s:\n    foreach: []\n    do: {cmd: x}\n")
    assert p.stages == {} and p.groups == {"s": ()}


def test_stage_vars_merge_into_a_copy_of_the_global_values() -> None:
    p = load("""
        stages:
          a:
            vars:
              - train: {extra: 1}
            cmd: echo ${train.lr} ${train.extra}
          b:
            cmd: echo ${train.lr}
        """)
    assert p.stages["a"].cmd == ("echo 0.01 1",) and p.stages["b"].cmd == ("echo 0.01",)
    err = error("stages:\n  a:\n    vars: [{train: {extra: 1}}]\n    cmd: x\n  c:\n    cmd: echo ${train.extra}\n")
    assert "undefined variable '${train.extra}'" in err.message and err.line == 6


def test_group_target_with_file_prefix() -> None:
    p = load("stages:\n  s:\n    foreach: [a]\n    do: {cmd: x}\n")
    assert p.resolve("pv.yaml:s") == ("s@a",) and p.resolve("nope") == ()


def test_model_objects_are_hashable() -> None:
    p = load("stages:\n  s:\n    cmd: x\n    meta: {a: [1]}\n    outs: [{o: {labels: [x]}}]\n    plots: [p.csv]\n")
    assert len({p.stages["s"], p.stages["s"]}) == 1 and hash(p) == hash(p)
