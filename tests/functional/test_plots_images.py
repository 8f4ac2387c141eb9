"""Image plots (SPEC §8.1): image files and folders of images in ``pv plots show/diff``, per
revision, inlined in the offline report; a folder of data files (dvclive's plots/metrics) is one
plot per file, as in DVC."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

from tests.helpers import PvRunner, gen, git, git_commit, png


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><script>alert(1)</script></svg>'
PIPELINE = """\
stages:
  train:
    cmd: echo
    plots:
    - plots/images
    - plots/metrics:
        x: step
    - roc.svg:
        cache: false
"""


def test_images_and_folders_of_images_per_revision(pv_repo: Path, pv: PvRunner) -> None:
    gen({"pv.yaml": PIPELINE, "roc.svg": SVG, "plots": {
        "images": {"a.png": png(10), "sub": {"b.jpg": b"\xff\xd8\xff\xe0 not really a jpeg"}},
        "metrics": {"loss.tsv": "step\tloss\n0\t1.0\n1\t0.5\n", "acc.tsv": "step\tacc\n0\t0.5\n1\t0.9\n"}}})
    pv.ok("commit", "-f", "train")
    git("add", "-A")
    git_commit("plots")
    (pv_repo / "plots/images/a.png").unlink()  # a link to the read-only cache copy
    (pv_repo / "plots/images/a.png").write_bytes(png(200))

    res = pv.ok("plots", "diff", "--json")
    data = json.loads(res.stdout)
    assert [e["revisions"] for e in data["plots/images/a.png"]] == [["HEAD"], ["workspace"]]
    assert {e["type"] for e in data["plots/images/a.png"]} == {"image"}
    urls = [e["url"] for e in data["plots/images/a.png"]]
    assert [base64.b64decode(u.split(",", 1)[1]) for u in urls] == [png(10), png(200)]  # HEAD from the cache
    assert data["plots/images/sub/b.jpg"][0]["url"].startswith("data:image/jpeg;base64,")
    assert data["roc.svg"][0]["url"].startswith("data:image/svg+xml;base64,")  # cache: false, from Git at HEAD
    # the data folder: one vega plot per file
    assert data["plots/metrics/loss.tsv"][0]["type"] == "vega"
    assert data["plots/metrics/acc.tsv"][0]["type"] == "vega"
    assert "not UTF-8" not in res.stderr

    res = pv.ok("plots", "show")
    html = (pv_repo / "pv_plots/index.html").read_text()
    imgs = re.findall(r'<img alt="([^"]+)" src="data:(image/[a-z+]+);base64,', html)
    assert ("plots/images/a.png (workspace)", "image/png") in imgs
    assert ("roc.svg (workspace)", "image/svg+xml") in imgs
    assert "<script>alert" not in html  # an SVG is inlined as an <img> data URI, never as markup
    assert (pv_repo / "pv_plots/static/workspace_plots_images_a.png").read_bytes() == png(200)


def test_pv_ui_lists_and_serves_the_images_of_a_plots_folder(pv_repo: Path, pv: PvRunner) -> None:
    """The dashboard's plots (``/api/plots`` and ``/api/plots/image``) show the images inside a
    plots folder per revision, as ``pv plots`` does; a file no plot names is not served."""
    from pipever.repo import Repo
    from pipever.ui import plots as ui_plots

    gen({"pv.yaml": PIPELINE, "roc.svg": SVG, "notes.png": png(1), "plots": {
        "images": {"a.png": png(10), "sub": {"b.jpg": b"\xff\xd8\xff\xe0 not really a jpeg"}},
        "metrics": {"loss.tsv": "step\tloss\n0\t1.0\n1\t0.5\n"}}})
    pv.ok("commit", "-f", "train")
    git("add", "-A")
    git_commit("plots")
    with Repo(pv_repo) as repo:
        listed = {i["path"]: [r["rev"] for r in i["revisions"]] for i in ui_plots.plots(repo, ["HEAD"])["images"]}
        assert listed["plots/images/a.png"] == ["HEAD", "workspace"]
        assert "plots/images/sub/b.jpg" in listed and "roc.svg" in listed
        assert ui_plots.image(repo, "HEAD", "plots/images/a.png") == (png(10), "image/png")
        assert ui_plots.image(repo, "workspace", "notes.png") is None  # no plot names it
