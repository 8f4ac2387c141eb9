"""`pv plots show` / `pv plots diff`: the offline HTML report and the Vega-Lite specs."""

from __future__ import annotations

import json
import re
from pathlib import Path


from tests.helpers import gen, git, git_commit

PIPELINE = """\
stages:
  train:
    cmd: python train.py
    plots: [{logs/loss.csv: {x: epoch, y: loss}}]
plots:
- acc: {x: epoch, y: {logs/loss.csv: acc}, template: scatter, title: Accuracy}
"""
V1 = "epoch,loss,acc\n1,0.9,0.5\n2,0.5,0.7\n"
V2 = "epoch,loss,acc\n1,0.8,0.6\n2,0.4,0.8\n3,0.3,0.85\n"


def specs(html: str) -> dict[str, dict]:  # type: ignore[type-arg]
    found = re.findall(r'<script type="application/json" class="vega-lite-spec" data-target="chart-\d+" '
                       r'data-plot-id="([^"]+)">(.*?)</script>', html, re.S)
    return {pid: json.loads(text) for pid, text in found}


def test_show_writes_self_contained_html(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    gen({"pv.yaml": PIPELINE, "logs": {"loss.csv": V1}})
    res = pv("plots", "show")
    assert (res.exit_code, res.stderr) == (0, ""), res
    page = pv_repo / "pv_plots" / "index.html"
    assert res.stdout == page.resolve().as_uri() + "\n"
    html = page.read_text()
    assert "<script src" not in html and "<link" not in html  # nothing is loaded: it opens offline
    assert len(re.findall(r'<div class="chart" id="chart-\d+"><svg', html)) == 2
    doc = specs(html)
    assert list(doc) == ["acc", "logs/loss.csv"]
    assert doc["logs/loss.csv"]["data"]["values"] == [
        {"epoch": 1, "loss": 0.9, "rev": "workspace", "filename": "logs/loss.csv", "field": "loss", "series": "loss"},
        {"epoch": 2, "loss": 0.5, "rev": "workspace", "filename": "logs/loss.csv", "field": "loss", "series": "loss"},
    ]
    assert doc["acc"]["title"] == "Accuracy" and doc["acc"]["mark"]["type"] == "point"


def test_json_prints_specs_and_writes_nothing(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    gen({"pv.yaml": PIPELINE, "logs": {"loss.csv": V1}})
    res = pv("plots", "show", "acc", "--json")
    assert res.exit_code == 0, res
    doc = json.loads(res.stdout)
    assert list(doc) == ["acc"]
    [entry] = doc["acc"]
    assert (entry["type"], entry["revisions"]) == ("vega", ["workspace"])
    assert entry["content"]["encoding"]["x"] == {"field": "epoch", "type": "quantitative", "title": "epoch"}
    assert [r["acc"] for r in entry["content"]["data"]["values"]] == [0.5, 0.7]
    assert not (pv_repo / "pv_plots").exists()


def test_diff_overlays_head_and_workspace(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    gen({"pv.yaml": PIPELINE, "logs": {"loss.csv": V1}})
    git_commit("v1")
    gen({"logs": {"loss.csv": V2}})
    doc = json.loads(pv("plots", "diff", "--targets", "logs/loss.csv", "--json").stdout)
    [entry] = doc["logs/loss.csv"]
    assert entry["revisions"] == ["HEAD", "workspace"]
    rows = entry["content"]["data"]["values"]
    assert [(r["series"], r["epoch"], r["loss"]) for r in rows] == [
        ("HEAD", 1, 0.9), ("HEAD", 2, 0.5), ("workspace", 1, 0.8), ("workspace", 2, 0.4), ("workspace", 3, 0.3),
    ]
    res = pv("plots", "diff", "-o", "out")
    assert res.exit_code == 0 and Path("out/index.html").exists()
    assert "HEAD" in Path("out/index.html").read_text()


def test_diff_between_commits_reads_cached_data(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    gen({"pv.yaml": "plots: [{loss: {x: epoch, y: {logs/loss.csv: loss}}}]\n", "logs": {"loss.csv": V1}})
    pv.ok("add", "logs/loss.csv")
    git_commit("v1")
    git("tag", "v1")
    gen({"logs": {"loss.csv": V2}})
    pv.ok("add", "logs/loss.csv")
    git_commit("v2")
    assert "logs/loss.csv" not in git("ls-files").split()
    doc = json.loads(pv("plots", "diff", "v1", "HEAD", "--json").stdout)
    rows = doc["loss"][0]["content"]["data"]["values"]
    assert doc["loss"][0]["revisions"] == ["v1", "HEAD"]
    assert [(r["rev"], r["loss"]) for r in rows] == [("v1", 0.9), ("v1", 0.5), ("HEAD", 0.8), ("HEAD", 0.4), ("HEAD", 0.3)]


def test_any_data_file_with_flag_overrides(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    gen({"cm.json": json.dumps({"rows": [{"actual": "a", "predicted": "a"}, {"actual": "b", "predicted": "a"}]}),
         "log.tsv": "1\t0.5\n2\t0.25\n"})
    doc = json.loads(pv("plots", "show", "cm.json", "-t", "confusion", "-x", "actual", "-y", "predicted",
                        "--json").stdout)
    spec = doc["cm.json"][0]["content"]
    assert spec["facet"] == {"field": "rev", "type": "nominal", "title": None}
    assert spec["spec"]["transform"][0]["groupby"] == ["rev", "predicted", "actual"]
    doc = json.loads(pv("plots", "show", "log.tsv", "--no-header", "-x", "0", "-y", "1", "--title", "T",
                        "--json").stdout)
    assert [(r["0"], r["1"]) for r in doc["log.tsv"][0]["content"]["data"]["values"]] == [(1, 0.5), (2, 0.25)]
    assert doc["log.tsv"][0]["content"]["title"] == "T"


def test_errors(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    gen({"pv.yaml": PIPELINE, "logs": {"loss.csv": V1}, "bad.json": "{oops"})
    res = pv("plots", "diff", "nope", "HEAD")
    assert (res.exit_code, res.stdout) == (1, "")
    assert res.stderr == "ERROR: unknown revision 'nope' — use a branch, tag or commit that exists ('git log')\n"
    res = pv("plots", "show", "-t", "pie")
    assert res.exit_code == 1
    assert res.stderr.startswith("ERROR: unknown plot template 'pie' (plot 'acc') — use one of: linear, simple,")
    res = pv("plots", "show", "bad.json", "missing.csv", "--json")
    assert (res.exit_code, json.loads(res.stdout)) == (0, {})
    assert res.stderr.splitlines() == [
        "WARNING: workspace: bad.json:1: invalid JSON: Expecting property name enclosed in double quotes — fix 'bad.json'",
        "WARNING: plot 'bad.json': no data in workspace",
        "WARNING: plot 'missing.csv': no data in workspace",
    ]


def test_vendored_vega_scripts_are_inlined(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    from pipever.compare.vega import SCRIPTS, VENDOR_DIR

    gen({"pv.yaml": PIPELINE, "logs": {"loss.csv": V1}})
    pv.ok("plots", "show")
    html = Path("pv_plots/index.html").read_text()
    where = []
    for name in SCRIPTS:  # each vendored build, as shipped, minus its source map comment
        text = (VENDOR_DIR / name).read_text()
        body = text[:text.rindex("//# sourceMappingURL=")].rstrip()
        assert body[-2000:].replace("</script", "<\\/script") in html
        where.append(html.index(body[:2000].replace("</script", "<\\/script")))
    assert where == sorted(where)  # vega, then vega-lite, then vega-embed
    assert "sourceMappingURL" not in html and "<script src" not in html and "https://cdn" not in html
    assert "vegaEmbed(target" in html and len(re.findall(r'<div class="chart" id="chart-\d+"><svg', html)) == 2  # SVG stays as the fallback
    assert all((VENDOR_DIR / f"LICENSE.{lib}").is_file() for lib in ("vega", "vega-lite", "vega-embed"))


def test_no_plots_still_writes_a_page_and_says_why(pv_repo: Path, pv) -> None:  # type: ignore[no-untyped-def]
    res = pv("plots", "show")
    assert res.exit_code == 0
    assert res.stderr.startswith("WARNING: no plots found — declare them in pv.yaml")
    assert "No plots to show." in Path("pv_plots/index.html").read_text()
