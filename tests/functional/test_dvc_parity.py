"""Acceptance (issue 17): a DVC-shaped project — the shapes of DVC's example-get-started with a
subfolder pipeline, a URL dep, dvclive's output and image plots — gives the stage list, the DAG
and the dry-run plans DVC 3 gives, in three states.

The expected values come from DVC 3 itself: the same tree with ``dvc.yaml`` files was run in a
scratch venv (``pip install dvc dvclive``), and its answers are pinned here (DVC is no test
dependency). Where DVC's answer depends on chance, the pin says so: among stages that do not
depend on each other, DVC's plan order follows Python's hash seed (it varies from run to run);
pv keeps the order of the pipeline files.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.httpserve import serve_dir
from tests.helpers import PvRunner, gen, png

PY = shlex.quote(sys.executable)


PARAM = "import re, sys\ndef param(file, key):\n" \
        "    return float(re.search(key + r': *([0-9.]+)', open(file).read()).group(1))\n"
PREPARE = PARAM + """import os
split = param('params.yaml', 'split')
rows = open('data/raw.csv').read().splitlines()[1:]
os.makedirs('data/prepared', exist_ok=True)
cut = int(len(rows) * (1 - split))
open('data/prepared/train.csv', 'w').write('\\n'.join(rows[:cut]) + '\\n')
open('data/prepared/test.csv', 'w').write('\\n'.join(rows[cut:]) + '\\n')
"""
FETCH = "import sys, urllib.request\nopen(sys.argv[2], 'wb').write(urllib.request.urlopen(sys.argv[1], timeout=10).read())\n"
TRAIN = PARAM + """import json, os
epochs = int(param('params.yaml', 'epochs'))
os.makedirs('dvclive/plots/metrics', exist_ok=True)
os.makedirs('dvclive/plots/images', exist_ok=True)
with open('dvclive/plots/metrics/loss.tsv', 'w') as f:
    f.write('step\\tloss\\n' + ''.join(f'{i}\\t{1 / (i + 1)}\\n' for i in range(epochs)))
json.dump({'loss': 1 / epochs, 'step': epochs - 1}, open('dvclive/metrics.json', 'w'))
open('dvclive/plots/images/pred.png', 'wb').write(bytes.fromhex(open('pred.hex').read()))
open('model.pkl', 'w').write(f'model trained {epochs} epochs on ' + open('../data/prepared/train.csv').read())
"""
EVALUATE = """import json, os
os.makedirs('eval', exist_ok=True)
json.dump({'acc': len(open('model.pkl').read()) % 7 / 7}, open('eval/metrics.json', 'w'))
open('eval/confusion.png', 'wb').write(bytes.fromhex(open('pred.hex').read()))
"""
REPORT = "import json\nm = json.load(open('../model/eval/metrics.json'))\nopen('report.md', 'w').write(f\"acc: {m['acc']}\\n\")\n"


def project(url: str) -> dict:  # type: ignore[type-arg]
    return {
        "pv.yaml": f"""stages:
  prepare:
    cmd: {PY} src/prepare.py
    deps:
    - src/prepare.py
    - data/raw.csv
    params:
    - prepare.split
    outs:
    - data/prepared
  labels:
    cmd: {PY} src/fetch.py {url} data/labels.csv
    deps:
    - {url}
    - src/fetch.py
    outs:
    - data/labels.csv
""",
        "params.yaml": "prepare:\n  split: 0.25\n",
        "src": {"prepare.py": PREPARE, "fetch.py": FETCH},
        "data": {"raw.csv": "x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(8))},
        "model": {
            "pv.yaml": f"""stages:
  train:
    cmd: {PY} train.py
    deps:
    - train.py
    - ../data/prepared
    - ../data/labels.csv
    params:
    - train.epochs
    outs:
    - model.pkl
    metrics:
    - dvclive/metrics.json:
        cache: false
    plots:
    - dvclive/plots/metrics:
        x: step
    - dvclive/plots/images
  evaluate:
    cmd: {PY} evaluate.py
    deps:
    - evaluate.py
    - model.pkl
    metrics:
    - eval/metrics.json:
        cache: false
    plots:
    - eval/confusion.png
""",
            "params.yaml": "train:\n  epochs: 3\n",
            "train.py": TRAIN, "evaluate.py": EVALUATE, "pred.hex": png(120).hex(),
        },
        "reports": {
            "pv.yaml": f"""stages:
  report:
    cmd: {PY} make_report.py
    deps:
    - make_report.py
    - ../model/eval/metrics.json
    outs:
    - report.md
""",
            "make_report.py": REPORT,
        },
    }


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder on an HTTP server on 127.0.0.1 that sends ETags (as most servers do)."""
    root = tmp_path / "served"
    root.mkdir()
    with serve_dir(root, etag=True) as base:
        yield root, base


def plan(pv: PvRunner, *args: str, cwd: Path | None = None) -> list[str]:
    out = pv.ok("repro", "--dry", *args, cwd=cwd).stdout
    return [ln for ln in out.splitlines() if ln.startswith(("Would run", "May also run"))]


def would(*names: str) -> list[str]:
    return [f"Would run stage '{n}':" for n in names]


def may(*names: str) -> list[str]:
    return [f"May also run stage '{n}' (if upstream outputs change)" for n in names]


def test_dvc_shaped_project_matches_dvc(pv_repo: Path, pv: PvRunner, served: tuple[Path, str]) -> None:
    folder, base = served
    labels = folder / "labels.csv"
    labels.write_text("id,label\n1,cat\n2,dog\n")
    url = f"{base}/labels.csv"
    gen(project(url))
    model, reports = pv_repo / "model", pv_repo / "reports"

    # stage list: DVC's 'dvc stage list' / '--all' / from the subfolder, byte for byte but the file name
    assert pv.ok("stage", "list").stdout == ("prepare  Outputs data/prepared\n"
                                             "labels   Outputs data/labels.csv\n")
    assert pv.ok("stage", "list", "--all").stdout == (
        "prepare                 Outputs data/prepared\n"
        "labels                  Outputs data/labels.csv\n"
        "model/pv.yaml:train     Outputs model.pkl; Reports dvclive/metrics.json, dvclive/plots/metrics, dvclive…\n"
        "model/pv.yaml:evaluate  Reports eval/metrics.json, eval/confusion.png\n"
        "reports/pv.yaml:report  Outputs report.md\n")
    assert pv.ok("stage", "list", "--all", "--name-only", cwd=model).stdout.split() == [
        "../pv.yaml:prepare", "../pv.yaml:labels", "train", "evaluate", "../reports/pv.yaml:report"]

    # the DAG: DVC's 'dvc dag --dot' edges
    dot = pv.ok("dag", "--dot").stdout
    edges = {ln.strip().rstrip(";") for ln in dot.splitlines() if "->" in ln}
    assert edges == {'"prepare" -> "model/pv.yaml:train"', '"labels" -> "model/pv.yaml:train"',
                     '"model/pv.yaml:train" -> "model/pv.yaml:evaluate"',
                     '"model/pv.yaml:evaluate" -> "reports/pv.yaml:report"'}

    pv.ok("repro", "-P")
    subprocess.run(["git", "add", "-A"], check=True, capture_output=True)
    subprocess.run(["git", "commit", "-qm", "run"], check=True, capture_output=True)

    # state 1, all recorded: DVC says "didn't change" for every stage
    assert plan(pv, "-P") == []
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"

    # state 2, the URL dep changed on the server: DVC runs 'labels' only (-P, and from model/)
    labels.write_text("id,label\n1,cat\n2,bird\n")
    assert plan(pv, "-P") == would("labels") + may("model/pv.yaml:train", "model/pv.yaml:evaluate",
                                                    "reports/pv.yaml:report")
    assert plan(pv, cwd=model) == would("../pv.yaml:labels") + may("train", "evaluate")
    assert json.loads(pv.ok("status", "--json").stdout) == {"labels": [{"changed deps": {url: "modified"}}]}

    # state 3, the URL back as it was, a model param and the raw data changed: DVC runs
    # 'prepare' and 'model/dvc.yaml:train' (-P); 'prepare' only at the root; from reports/ both
    labels.write_text("id,label\n1,cat\n2,dog\n")
    (model / "params.yaml").write_text("train:\n  epochs: 4\n")
    with (pv_repo / "data/raw.csv").open("a") as f:
        f.write("8,0\n")
    assert plan(pv, "-P") == would("prepare", "model/pv.yaml:train") + may("model/pv.yaml:evaluate",
                                                                          "reports/pv.yaml:report")
    assert plan(pv) == would("prepare")
    assert plan(pv, cwd=model) == would("../pv.yaml:prepare", "train") + may("evaluate")
    assert plan(pv, cwd=reports) == would("../pv.yaml:prepare", "../model/pv.yaml:train") + may(
        "../model/pv.yaml:evaluate", "report")
    assert sorted(json.loads(pv.ok("status", "--json").stdout)) == ["model/pv.yaml:train", "prepare"]

    # dvclive's metrics and the image plots are pv's too
    pv.ok("repro", "-P")
    assert "model/dvclive/metrics.json" in pv.ok("metrics", "show").stdout
    shown = json.loads(pv.ok("plots", "show", "--json").stdout)
    assert shown["model/dvclive/plots/images/pred.png"][0]["type"] == "image"
    assert shown["model/eval/confusion.png"][0]["type"] == "image"
    assert shown["model/dvclive/plots/metrics/loss.tsv"][0]["type"] == "vega"
