"""A realistic DVC project's dvc.yaml, renamed to pv.yaml, loads and forms a valid graph."""

from __future__ import annotations

from pipever.pipeline import dag
from pipever.pipeline.schema import load_pipeline
from pipever.pipeline.stage import OutKind, ParamDep

DVC_YAML = """\
# Pipeline of a text classifier, written for DVC 3.
vars:
  - config/paths.yaml
  - langs: [en, de]

params:
  - params.yaml
  - config/train.json

metrics:
  - eval/metrics.json

plots:
  - eval/importance.png
  - ROC:
      template: simple
      x: fpr
      y:
        eval/plots/sklearn/roc/train.json: tpr
        eval/plots/sklearn/roc/test.json: tpr
  - Confusion-Matrix:
      template: confusion
      x: actual
      y:
        eval/plots/sklearn/cm/test.json: predicted
  - eval/prc.json:
      x: recall
      y: precision
      title: Precision/recall

artifacts:
  text-classifier:
    path: model.pkl
    type: model
    desc: Detects the topic of a post
    labels: [nlp, classification]

stages:
  prepare:
    cmd: python src/prepare.py ${paths.raw} ${paths.prepared}
    deps:
      - src/prepare.py
      - ${paths.raw}
    params:
      - prepare.seed
      - prepare.split
    outs:
      - ${paths.prepared}

  featurize:
    foreach: ${langs}
    do:
      cmd: >-
        python src/featurization.py
        ${paths.prepared}/${item} features/${item}
        --max-features ${featurize.max_features}
      deps:
        - src/featurization.py
        - ${paths.prepared}/${item}
      params:
        - featurize.max_features
        - featurize.ngrams
      outs:
        - features/${item}

  train:
    cmd:
      - python src/train.py features model.pkl
      - python -c "print('trained')"
    deps:
      - src/train.py
      - features/en
      - features/de
    params:
      - train
      - config/train.json:
          - optimizer.lr
          - optimizer.momentum
      - config/extra.toml:
    outs:
      - model.pkl:
          desc: trained model
          remote: models

  evaluate:
    cmd: python src/evaluate.py model.pkl features
    deps:
      - src/evaluate.py
      - model.pkl
      - features
    outs:
      - eval/importance.png:
          cache: false
    metrics:
      - eval/metrics.json:
          cache: false
    plots:
      - eval/plots/sklearn/roc:
          cache: false
      - eval/plots/sklearn/cm:
          cache: false
      - eval/prc.json:
          cache: false
          x: recall
          y: precision

  sweep:
    matrix:
      model: [linear, forest]
      seed: [1, 2]
    cmd: python src/sweep.py --model ${item.model} --seed ${item.seed}
    deps: [src/sweep.py, model.pkl]
    outs:
      - sweeps/${item.model}-${item.seed}.json:
          cache: false
    frozen: true
"""

FILES = {
    "params.yaml": "prepare: {seed: 20170428, split: 0.2}\n"
                   "featurize: {max_features: 200, ngrams: 2}\n"
                   "train: {seed: 1, n_est: 50, min_split: 0.01}\n",
    "config/paths.yaml": "paths: {raw: data/data.xml, prepared: data/prepared}\n",
    "config/train.json": '{"optimizer": {"lr": 0.1, "momentum": 0.9}}',
}


def test_dvc_yaml_renamed_to_pv_yaml_loads() -> None:
    p = load_pipeline(DVC_YAML, "pv.yaml", read_file=FILES.get)
    assert list(p.stages) == [
        "prepare", "featurize@en", "featurize@de", "train", "evaluate",
        "sweep@linear-1", "sweep@linear-2", "sweep@forest-1", "sweep@forest-2",
    ]
    assert p.groups == {"featurize": ("featurize@en", "featurize@de"),
                        "sweep": ("sweep@linear-1", "sweep@linear-2", "sweep@forest-1", "sweep@forest-2")}
    prepare = p.stages["prepare"]
    assert prepare.cmd == ("python src/prepare.py data/data.xml data/prepared",)
    assert prepare.deps == ("src/prepare.py", "data/data.xml")
    # values of vars files used in ${} are tracked like params, as DVC does
    assert prepare.params == (
        ParamDep("params.yaml", ("prepare.seed", "prepare.split")),
        ParamDep("config/paths.yaml", ("paths.raw", "paths.prepared")),
    )
    fe = p.stages["featurize@de"]
    assert fe.cmd == ("python src/featurization.py data/prepared/de features/de --max-features 200",)
    assert fe.outs[0].path == "features/de"
    train = p.stages["train"]
    assert train.cmd_is_list and len(train.cmd) == 2
    assert train.params == (
        ParamDep("params.yaml", ("train",)),
        ParamDep("config/train.json", ("optimizer.lr", "optimizer.momentum")),
        ParamDep("config/extra.toml", None),
    )
    assert train.outs[0].remote == "models" and train.outs[0].desc == "trained model"
    evaluate = p.stages["evaluate"]
    assert [(o.path, o.kind, o.cache) for o in evaluate.all_outs] == [
        ("eval/importance.png", OutKind.OUT, False),
        ("eval/metrics.json", OutKind.METRIC, False),
        ("eval/plots/sklearn/roc", OutKind.PLOT, False),
        ("eval/plots/sklearn/cm", OutKind.PLOT, False),
        ("eval/prc.json", OutKind.PLOT, False),
    ]
    assert p.stages["sweep@forest-2"].cmd == ("python src/sweep.py --model forest --seed 2",)
    assert p.stages["sweep@forest-2"].frozen
    assert p.params_files == ("params.yaml", "config/train.json")
    assert p.metrics_files == ("eval/metrics.json",)
    assert [d.id for d in p.plots] == ["eval/importance.png", "ROC", "Confusion-Matrix", "eval/prc.json"]
    assert p.plots[1].y == {"eval/plots/sklearn/roc/train.json": ("tpr",), "eval/plots/sklearn/roc/test.json": ("tpr",)}
    assert p.artifacts["text-classifier"].labels == ("nlp", "classification")


def test_dvc_project_graph() -> None:
    p = load_pipeline(DVC_YAML, "pv.yaml", read_file=FILES.get)
    g = dag.build_graph(p)
    assert set(g.edges) == {
        ("prepare", "featurize@en"), ("prepare", "featurize@de"),
        ("featurize@en", "train"), ("featurize@de", "train"),
        ("featurize@en", "evaluate"), ("featurize@de", "evaluate"), ("train", "evaluate"),
        ("train", "sweep@linear-1"), ("train", "sweep@linear-2"),
        ("train", "sweep@forest-1"), ("train", "sweep@forest-2"),
    }
    assert dag.plan(g, p.resolve("featurize")) == ("prepare", "featurize@en", "featurize@de")
    present = {"src/prepare.py", "data/data.xml", "src/featurization.py", "src/train.py", "src/evaluate.py",
               "src/sweep.py"}
    dag.check_deps(p, g, exists=present.__contains__)
