"""pv.yaml -> Pipeline: stage fields, outs flags, params forms, top-level sections, strict errors."""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import pytest

from pipever.errors import SchemaError
from pipever.pipeline.schema import load_pipeline
from pipever.pipeline.stage import Artifact, OutKind, ParamDep, Pipeline


def load(text: str, read: Callable[[str], str | None] | None = None, path: str = "pv.yaml") -> Pipeline:
    return load_pipeline(textwrap.dedent(text), path, read_file=read or (lambda rel: None))


def error(text: str, read: Callable[[str], str | None] | None = None) -> SchemaError:
    with pytest.raises(SchemaError) as info:
        load(text, read)
    return info.value


def test_spec_example_stage_fields() -> None:
    p = load("""
        stages:
          prepare:
            cmd: python src/prepare.py data/raw.csv data/prepared
            deps: [src/prepare.py, data/raw.csv]
            params: [prepare.split, prepare.seed]
            outs: [data/prepared]
          train:
            cmd: python src/train.py
            wdir: .
            deps: [src/train.py, data/prepared]
            params: [train]
            outs:
            - model.pkl
            - cache_dir: {cache: false, persist: true}
            metrics: [{metrics.json: {cache: false}}]
            plots: [plots/roc.csv]
        """)
    assert list(p.stages) == ["prepare", "train"]
    prepare, train = p.stages["prepare"], p.stages["train"]
    assert prepare.cmd == ("python src/prepare.py data/raw.csv data/prepared",)
    assert prepare.lock_cmd == "python src/prepare.py data/raw.csv data/prepared"
    assert prepare.deps == ("src/prepare.py", "data/raw.csv")
    assert prepare.params == (ParamDep("params.yaml", ("prepare.split", "prepare.seed")),)
    assert [o.path for o in train.outs] == ["model.pkl", "cache_dir"]
    assert train.outs[1].cache is False and train.outs[1].persist is True
    assert train.metrics[0].kind is OutKind.METRIC and train.metrics[0].cache is False
    assert train.plots[0].kind is OutKind.PLOT and train.plots[0].path == "plots/roc.csv"
    assert [o.path for o in train.all_outs] == ["model.pkl", "cache_dir", "metrics.json", "plots/roc.csv"]


def test_cmd_list_is_kept_as_list() -> None:
    stage = load("stages:\n  s:\n    cmd: [echo a, echo b]\n").stages["s"]
    assert stage.cmd == ("echo a", "echo b") and stage.cmd_is_list and stage.lock_cmd == ["echo a", "echo b"]


def test_wdir_makes_paths_repo_relative() -> None:
    stage = load("""
        stages:
          s:
            cmd: make
            wdir: sub
            deps: [in.csv, ../shared/x.py]
            params: [lr, {../other.yaml: [k]}]
            outs: [out]
        """).stages["s"]
    assert stage.wdir == "sub"
    assert stage.deps == ("sub/in.csv", "shared/x.py")
    assert stage.params == (ParamDep("sub/params.yaml", ("lr",)), ParamDep("other.yaml", ("k",)))
    assert stage.outs[0].path == "sub/out"


def test_pv_yaml_in_a_subdirectory_is_the_base() -> None:
    stage = load("stages:\n  s: {cmd: x, deps: [a], outs: [b]}\n", path="sub/pv.yaml").stages["s"]
    assert stage.wdir == "sub" and stage.deps == ("sub/a",) and stage.outs[0].path == "sub/b"


@pytest.mark.parametrize("entry, expected", [
    ("[train]", (ParamDep("params.yaml", ("train",)),)),
    ("[{conf.yaml: [a.b, c]}]", (ParamDep("conf.yaml", ("a.b", "c")),)),
    ("[{conf.json: }]", (ParamDep("conf.json", None),)),
    ("[{conf.json: []}]", (ParamDep("conf.json", None),)),
    ("[conf.toml]", (ParamDep("conf.toml", None),)),
    ("[a, {params.yaml: [b]}, a]", (ParamDep("params.yaml", ("a", "b")),)),
    ("[a, {params.yaml: null}]", (ParamDep("params.yaml", None),)),
])
def test_params_forms(entry: str, expected: tuple[ParamDep, ...]) -> None:
    assert load(f"stages:\n  s:\n    cmd: x\n    params: {entry}\n").stages["s"].params == expected


def test_out_flags() -> None:
    out = load("""
        stages:
          s:
            cmd: x
            outs:
            - model.pkl:
                cache: true
                persist: true
                push: false
                remote: backup
                desc: the model
                type: model
                labels: [a, b]
                meta: {k: v}
        """).stages["s"].outs[0]
    assert (out.cache, out.persist, out.push, out.remote, out.desc) == (True, True, False, "backup", "the model")
    assert out.extra == {"type": "model", "labels": ["a", "b"], "meta": {"k": "v"}}


def test_plot_out_props() -> None:
    plot = load("""
        stages:
          s:
            cmd: x
            plots:
            - prc.json: {x: recall, y: precision, template: linear, title: PRC, cache: false}
        """).stages["s"].plots[0]
    assert plot.cache is False and plot.plot is not None
    assert (plot.plot.x, plot.plot.y, plot.plot.template, plot.plot.title) == ("recall", "precision", "linear", "PRC")


def test_stage_booleans_desc_meta() -> None:
    s = load("""
        stages:
          s:
            cmd: x
            frozen: true
            always_changed: true
            desc: Does things
            meta: {owner: me, tags: [1, 2]}
        """).stages["s"]
    assert s.frozen and s.always_changed and s.desc == "Does things"
    assert s.meta == {"owner": "me", "tags": [1, 2]} and type(s.meta) is dict


def test_top_level_sections() -> None:
    p = load("""
        params: [params.yaml, conf/extra.json]
        metrics: [metrics.json]
        plots:
          - loss.csv:
              y: [train_loss, val_loss]
              x: epoch
          - roc:
              template: simple
              x: fpr
              y: {eval/roc.json: tpr}
          - confusion:
              template: confusion
              x: {dir/actual.csv: actual}
              y: {dir/preds.csv: predicted}
          - plain.json
        artifacts:
          cv-classification:
            path: models/resnet.pt
            type: model
            desc: CV model
            labels: [resnet50]
            meta: {framework: pytorch}
        stages: {}
        """)
    assert p.params_files == ("params.yaml", "conf/extra.json")
    assert p.metrics_files == ("metrics.json",)
    loss, roc, confusion, plain = p.plots
    assert loss.y == {"loss.csv": ("train_loss", "val_loss")} and loss.props.x == "epoch"
    assert roc.id == "roc" and roc.y == {"eval/roc.json": ("tpr",)} and roc.props.template == "simple"
    assert confusion.props.x == {"dir/actual.csv": "actual"}
    assert confusion.files == ("dir/preds.csv", "dir/actual.csv")
    assert plain.y == {"plain.json": ()}
    assert p.artifacts == {"cv-classification": Artifact(
        "cv-classification", "models/resnet.pt", "model", "CV model", ("resnet50",), {"framework": "pytorch"})}


def test_top_level_plots_as_mapping() -> None:
    p = load("plots:\n  acc:\n    y: {a.csv: acc}\n")
    assert p.plots[0].id == "acc" and p.plots[0].y == {"a.csv": ("acc",)}


def test_empty_file_is_an_empty_pipeline() -> None:
    assert load("").stages == {}
    assert load("# nothing\n").stages == {}


@pytest.mark.parametrize("text, line, words", [
    ("stages:\n  s:\n    cmd: x\n    outz: [a]\n", 4, "unknown key 'outz'"),
    ("stagez: {}\n", 1, "unknown key 'stagez'"),
    ("stages:\n  s:\n    deps: [a]\n", 3, "'cmd' is required"),
    ("stages:\n  s:\n    cmd: x\n    frozen: yes please\n", 4, "'frozen' must be true or false"),
    ("stages:\n  s:\n    cmd: x\n    deps: a.csv\n", 4, "'deps' must be a list"),
    ("stages:\n  s:\n    cmd: 3\n", 3, "'cmd' must be"),
    ("stages:\n  s:\n    cmd: []\n", 3, "'cmd' must be"),
    ("stages:\n  s:\n    cmd: x\n    outs:\n    - a: {cache: maybe}\n", 5, "'cache' must be true or false"),
    ("stages:\n  s:\n    cmd: x\n    outs:\n    - a: {cahce: false}\n", 5, "unknown key 'cahce'"),
    ("stages:\n  s:\n    cmd: x\n    outs: [a, a]\n", 3, "listed twice"),
    ("stages:\n  bad name:\n    cmd: x\n", 2, "invalid stage name"),
    ("stages:\n  a@b:\n    cmd: x\n", 2, "invalid stage name"),
    ("stages:\n  s: echo\n", 2, "must be a mapping"),
    ("stages:\n  s:\n    cmd: x\n    params: [{p.yaml: 3}]\n", 4, "list of keys"),
    ("stages:\n  s:\n    cmd: x\n  s:\n    cmd: y\n", 4, "duplicate key 's'"),
    ("stages:\n  s:\n    cmd: x\n    deps: [a\n", 5, "invalid YAML"),
    ("artifacts:\n  Bad Name!: {path: m}\n", 2, "artifact name"),
    ("artifacts:\n  m: {type: model}\n", 2, "needs a mapping with at least 'path'"),
    ("plots:\n  - roc:\n      y: {a.csv: 3}\n", 3, "a field must be"),
])
def test_schema_errors_name_file_and_line(text: str, line: int, words: str) -> None:
    err = error(text)
    assert err.file == "pv.yaml" and err.line == line, err.message
    assert words in err.message
    assert err.message.startswith(f"pv.yaml:{line}: ")


@pytest.mark.parametrize("path, reason", [
    ("../outside", "contains '..'"),
    ("/etc/passwd", "is absolute"),
    ("sub/../../x", "contains '..'"),
    (".git/config", "points into '.git'"),
    (".pv/cache/x", "points into '.pv'"),
    ("C:/x", "is absolute"),
    ("a\\\\b", "backslash"),
])
@pytest.mark.parametrize("field", ["deps", "outs", "metrics", "plots"])
def test_paths_must_stay_inside_the_repo(field: str, path: str, reason: str) -> None:
    err = error(f'stages:\n  s:\n    cmd: x\n    {field}:\n    - "{path}"\n')
    assert reason in err.message and err.line == 5


@pytest.mark.parametrize("field", ["outs", "metrics", "plots"])
def test_a_url_output_needs_cache_false(field: str) -> None:
    """SPEC §8.1: a URL out is declared with cache: false (pv neither stores nor deletes it);
    metrics and plots are files pv reads, never URLs."""
    err = error(f'stages:\n  s:\n    cmd: x\n    {field}:\n    - "s3://bucket/key"\n')
    assert "needs 'cache: false'" in err.message and err.line == 5


def test_url_deps_and_outs_are_kept_apart_from_paths() -> None:
    stage = load("stages:\n  s:\n    cmd: x\n    deps: [a.csv, 'https://h/x.csv', 's3://b/k']\n"
                 "    outs: [o.txt, {'s3://b/out': {cache: false}}]\n").stages["s"]
    assert stage.deps == ("a.csv",) and stage.url_deps == ("https://h/x.csv", "s3://b/k")
    assert [o.path for o in stage.outs] == ["o.txt"] and [o.path for o in stage.url_outs] == ["s3://b/out"]
    err = error("stages:\n  s:\n    cmd: x\n    deps: ['https://h/x.csv', ../up]\n")
    assert "contains '..'" in err.message and err.line == 4


def test_wdir_outside_repo_is_refused() -> None:
    err = error("stages:\n  s:\n    cmd: x\n    wdir: ../up\n")
    assert "contains '..'" in err.message and err.line == 4


def test_params_file_outside_repo_is_refused() -> None:
    assert "contains '..'" in error("stages:\n  s:\n    cmd: x\n    params: [{../p.yaml: [a]}]\n").message


def test_artifact_path_is_checked() -> None:
    assert "is absolute" in error("artifacts:\n  m: {path: /abs/model.pt}\n").message


def test_merge_key_inside_stages() -> None:
    p = load("""
        stages:
          a: &base
            cmd: echo base
            deps: [common.py]
          b:
            <<: *base
            cmd: echo b
        """)
    assert p.stages["b"].cmd == ("echo b",) and p.stages["b"].deps == ("common.py",)


def test_alias_bomb_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)]
    err = error("\n".join(lines) + "\nstages: {}\n")
    assert "too many nodes" in err.message


def test_recursive_alias_is_refused() -> None:
    assert "invalid YAML" in error("stages: &s\n  a: *s\n").message
