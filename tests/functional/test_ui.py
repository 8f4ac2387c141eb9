"""`pv ui`: every view in a real headless Chromium (Debian's ``chromium``, driven by Playwright
through ``executable_path``; ``make chromium`` installs it) against a project with experiments,
plots, a pipeline, tracked data and registry versions; and the server's refusals over plain HTTP.

``PV_UI_SCREENSHOTS=DIR`` also saves a screenshot of each view there (docs/ui/ is made so)."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pipever.ui.server import UiServer, make_server
from tests.conftest import GIT_ENV
from tests.functional.ui_demo import build, env_path
from tests.helpers import PvRunner, git, git_commit

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 60_000  # a loaded CI machine: bounded, generous
SHOTS = os.environ.get("PV_UI_SCREENSHOTS")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo project, built once for the module (tests that change it work on a copy)."""
    base = tmp_path_factory.mktemp("ui")
    root, remote, home = base / "demo-project", base / "remote", base / "home"
    for d in (root, remote, home):
        d.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        mp.setenv("XDG_CONFIG_HOME", str(home / ".config"))
        for k, v in {**GIT_ENV, "GIT_AUTHOR_NAME": "Ada Lovelace", "GIT_COMMITTER_NAME": "Ada Lovelace"}.items():
            mp.setenv(k, v)
        mp.setenv("PATH", env_path())
        mp.chdir(root)
        git("init", "-q", "-b", "main")
        git("config", "commit.gpgsign", "false")
        pv = PvRunner()
        pv.ok("init")
        git_commit("init pv")
        build(root, pv, remote)
    return root


@contextmanager
def serving(root: Path, **options: Any) -> Iterator[UiServer]:
    server = make_server(root, **options)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture(scope="module")
def server(demo: Path) -> Iterator[UiServer]:
    with serving(demo) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no {CHROMIUM}: install Debian's chromium ('make chromium' does, as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the 'test' extra")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
        yield chromium
        chromium.close()


class View:
    """A page of the dashboard, with every console error and uncaught script error collected."""

    def __init__(self, browser: Any, url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 800})
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.response = self.page.goto(url)
        self.page.wait_for_selector("main[data-ready]")

    def text(self, selector: str) -> str:
        return str(self.page.locator(selector).inner_text())

    def texts(self, selector: str) -> list[str]:
        return [str(t).strip() for t in self.page.locator(selector).all_inner_texts()]

    def shot(self, name: str) -> None:
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            self.page.wait_for_timeout(300)
            self.page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)

    def close(self, name: str | None = None) -> None:
        if name:
            self.shot(name)
        self.context.close()


@contextmanager
def view(browser: Any, server: UiServer, path: str, shot: str | None = None) -> Iterator[View]:
    v = View(browser, f"http://127.0.0.1:{server.policy.port}{path}")
    try:
        assert v.page.locator("main").get_attribute("data-ready") == "true", v.text("main")
        yield v
        assert v.errors == []
        origin = f"http://127.0.0.1:{server.policy.port}/"
        assert [u for u in v.requests if not u.startswith(origin) and not u.startswith("data:")] == []  # offline
    finally:
        v.close(shot)


def pv_json(root: Path, *args: str) -> Any:
    res = PvRunner().ok(*args, "--json", cwd=root)
    return json.loads(res.stdout)


# -- the views ----------------------------------------------------------------------------------
def test_overview_counts_what_the_repo_holds(browser: Any, server: UiServer, demo: Path) -> None:
    with view(browser, server, "/", "overview") as v:
        tiles = dict(zip(v.texts("#overview .tile-label"), v.texts("#overview .tile-value")))
        assert tiles == {"experiments": "3", "plots": "3", "stages": "4", "tracked outputs": "4", "artifacts": "1"}
        assert "2 to run" in v.text("#overview") and "main" in v.text("h1")
        assert v.texts(".columns .badge")[:4] == ["prepare: up to date", "train: stale", "evaluate: up to date",
                                                 "publish: frozen"]
        assert sorted(v.texts(".columns ul.plain a")) == ["long-otter", "quick-lynx", "slow-heron"]
        assert "classifier latest v1.1.0" in v.text(".columns") and "prod: v1.0.0" in v.texts(".columns .badge")


def test_experiments_table_sorts_filters_hides_and_compares(browser: Any, server: UiServer, demo: Path) -> None:
    listed = pv_json(demo, "exp", "show")
    shown = {r["name"]: r for r in listed}
    with view(browser, server, "/experiments", "experiments") as v:
        headers = v.texts("#experiments thead th")[1:]
        assert headers == ["Experiment", "Type", "Baseline", "Created", "train.lr", "train.epochs", "train.seed",
                           "acc", "loss"]
        names = v.texts("#experiments tbody td:nth-child(2)")
        assert names == [r["name"] for r in listed]  # the order of 'pv exp show'
        assert sorted(names) == ["long-otter", "main", "queued-crane", "quick-lynx", "slow-heron", "workspace"]
        row = v.texts('#experiments tr[data-name="quick-lynx"] td')
        assert row[5:] == ["0.35", "5", "7", str(shown["quick-lynx"]["metrics"]["metrics.json"]["acc"]),
                           str(shown["quick-lynx"]["metrics"]["metrics.json"]["loss"])]
        page = v.page
        page.click("#experiments th:has-text('acc')")  # ascending, then descending
        page.click("#experiments th:has-text('acc')")
        by_acc = sorted((r for r in shown.values() if r["metrics"]), key=lambda r: -r["metrics"]["metrics.json"]["acc"])
        assert v.texts("#experiments tbody td:nth-child(2)")[:3] == [r["name"] for r in by_acc[:3]]
        page.fill("#exp-filter", "otter")
        assert v.texts("#experiments tbody td:nth-child(2)") == ["long-otter"]
        page.fill("#exp-filter", "")
        page.check("#hide-unchanged")  # train.seed is 7 everywhere
        assert "train.seed" not in v.texts("#experiments thead th") and "train.lr" in v.texts("#experiments thead th")
        page.check('tr[data-name="quick-lynx"] input[type=checkbox]')
        page.check('tr[data-name="slow-heron"] input[type=checkbox]')
        compare = v.texts("#compare-table thead th")
        assert compare == ["Experiment", "train.lr", "train.epochs", "acc", "loss"]
        assert v.texts("#compare-table tbody td:first-child") == ["quick-lynx", "slow-heron"]
        assert page.get_attribute("#plot-selected", "href") == "/plots?rev=quick-lynx&rev=slow-heron"


def test_plots_draws_the_selected_experiments_side_by_side(browser: Any, server: UiServer, demo: Path) -> None:
    with view(browser, server, "/plots?rev=quick-lynx&rev=slow-heron&rev=main", "plots") as v:
        page = v.page
        page.wait_for_selector('.vega[data-drawn="true"] svg >> nth=1')
        assert v.texts("figure.plot > figcaption strong") == ["plots/importance.svg", "accuracy", "logs/loss.csv"]
        images = page.locator('figure.image-plot[data-plot-id="plots/importance.svg"] img')
        assert images.count() == 3 and v.texts("figure.image-plot .images figcaption") == ["quick-lynx", "slow-heron", "main"]
        page.wait_for_function("[...document.querySelectorAll('.images img')].every(i => i.complete && i.naturalWidth > 0)")
        src = str(images.nth(0).get_attribute("src"))
        status, headers, body = request_url(f"http://127.0.0.1:{server.policy.port}{src}")
        assert status == 200 and headers["Content-Type"] == "image/svg+xml" and "sandbox" in headers["Content-Security-Policy"]
        assert body == git("show", "refs/exps/quick-lynx:plots/importance.svg", cwd=demo).encode()
        assert v.texts(".notice") == []  # the image is not reported as unreadable plot data
        legend = str(page.locator('.vega[data-plot-id="logs/loss.csv"] svg').text_content())
        assert all(name in legend for name in ("quick-lynx", "slow-heron", "main"))
        expected = pv_json(demo, "plots", "diff", "quick-lynx", "slow-heron", "main")
        points = page.locator('.vega[data-plot-id="logs/loss.csv"] svg path[aria-roledescription="point"]').count()
        assert points == len(expected["logs/loss.csv"][0]["content"]["data"]["values"])
        assert page.locator("#rev-picker input[value=quick-lynx]").is_checked()
        assert not page.locator("#rev-picker input[value=long-otter]").is_checked()


def test_pipeline_colours_stages_by_status(browser: Any, server: UiServer, demo: Path) -> None:
    with view(browser, server, "/pipeline", "pipeline") as v:
        states = {n: v.page.get_attribute(f'#dag g[data-stage="{n}"]', "data-status")
                  for n in ("prepare", "train", "evaluate", "publish")}
        assert states == {"prepare": "up to date", "train": "stale", "evaluate": "up to date", "publish": "frozen"}
        assert v.page.locator("#dag path.edge").count() == 3
        assert "changed params: params.yaml" in v.text("#stages")


def test_data_lists_tracked_outputs_remote_presence_and_a_diff(browser: Any, server: UiServer, demo: Path) -> None:
    with view(browser, server, "/data", "data") as v:
        page = v.page
        page.wait_for_function("!document.querySelector('#tracked').innerText.includes('checking')")
        rows = {r[0]: r for r in (t.split("\t") for t in v.texts("#tracked tbody tr"))}
        assert sorted(rows) == ["data/prepared.csv", "data/raw.csv", "images", "model.pkl"]
        assert rows["images"][1:] == ["directory", "7.8 KiB", "up to date", "no (3 missing)"]
        assert rows["data/raw.csv"][1:] == ["file", "198 B", "up to date", "yes"]
        first = git("rev-list", "--max-parents=0", "HEAD", cwd=demo).strip()
        previous = git("rev-parse", "HEAD~1", cwd=demo).strip()
        assert first  # the diff of HEAD~1 -> HEAD: the retrained model
        page.select_option("#diff-a", previous)
        page.select_option("#diff-b", "HEAD")
        page.click("form:has(#diff-a) button")
        page.wait_for_selector("#diff-table")
        [change] = pv_json(demo, "diff", previous, "HEAD")["modified"]
        sizes = " → ".join(f"{change['size'][k] / 1024:.1f} KiB" for k in ("old", "new"))
        assert v.texts("#diff-table tbody tr") == [f"modified\tmodel.pkl\t{sizes}"]


def test_registry_shows_versions_stages_and_history(browser: Any, server: UiServer, demo: Path) -> None:
    shown = pv_json(demo, "model", "show")["classifier"]
    with view(browser, server, "/registry", "registry") as v:
        card = '.artifact[data-artifact="classifier"]'
        assert f"latest: {shown['latest']}" in v.text(card)
        assert v.texts(f"{card} .controls .badge") == ["prod: v1.0.0", "staging: v1.0.0"] == [
            f"{s}: {ver}" for s, ver in sorted(shown["stages"].items())]
        assert [r.split("\t")[:2] for r in v.texts(f"{card} table.versions tbody tr")] == [
            ["v1.1.0", ""], ["v1.0.0", "prod, staging"]]
        events = v.texts(f"{card} table.history tbody td:nth-child(2)")
        assert events == [e["event"] for e in pv_json(demo, "model", "history", "classifier")]
        assert v.page.locator(f"{card} form.inline").count() == 0  # read-only: no action buttons


# -- live status ----------------------------------------------------------------------------------
def test_pipeline_view_follows_a_running_repro_and_shows_its_failure(browser: Any, demo: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(demo, root, symlinks=True)
    hold = tmp_path / "hold"
    hold.touch()
    env = {**os.environ, "DEMO_HOLD": str(hold), "PATH": env_path()}
    with serving(root) as srv, view(browser, srv, "/pipeline") as v:
        node = '#dag g[data-stage="train"]'
        proc = subprocess.Popen([sys.executable, "-m", "pipever", "repro"], cwd=root, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            v.page.wait_for_selector(f'{node}[data-status="running"]')
            assert "Running: pv repro" in v.text("main")
            assert v.page.get_attribute('#dag g[data-stage="publish"]', "data-status") == "frozen"  # skipped, not queued
            v.shot("pipeline-running")
            hold.unlink()
            assert proc.wait(60) == 0, proc.stdout.read() if proc.stdout else ""
        finally:
            proc.kill() if proc.poll() is None else None
        v.page.wait_for_selector(f'{node}[data-status="up to date"]')
        assert "Running" not in v.text("main")
        (root / "params.yaml").write_text("train:\n  lr: 0.3\n  epochs: 5\n  seed: 7\n")
        res = subprocess.run([sys.executable, "-m", "pipever", "repro"], cwd=root, env={**env, "DEMO_FAIL": "1"},
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 1 and "failed to reproduce 'train'" in res.stderr
        v.page.wait_for_selector(f'{node}[data-status="failed"]')
        assert "exit" in v.text('#stages tr:has-text("train")') or "failed" in v.text('#stages tr:has-text("train")')
    doc = json.loads((root / ".pv" / "tmp" / "live-status.json").read_text())
    [run] = doc["runs"]
    assert run["result"] == "failed" and run["stages"]["train"]["state"] == "failed"


def test_exp_run_records_its_stages_under_the_experiment(demo: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(demo, root, symlinks=True)
    res = subprocess.run([sys.executable, "-m", "pipever", "exp", "run", "-S", "train.lr=0.4", "-n", "tracked-run"],
                         cwd=root, capture_output=True, text=True, timeout=120, env={**os.environ, "PATH": env_path()})
    assert res.returncode == 0, res
    doc = json.loads((root / ".pv" / "tmp" / "live-status.json").read_text())
    [run] = doc["runs"]
    assert (run["experiment"], run["result"], doc["command"]) == ("tracked-run", "done", "pv exp run -S train.lr=0.4 -n tracked-run")
    assert {n: s["state"] for n, s in run["stages"].items()} == {
        "prepare": "done", "train": "done", "evaluate": "done", "publish": "done"}
    assert run["stages"]["train"]["outcome"] == "ran" and run["stages"]["publish"]["outcome"] == "frozen"


def request_url(url: str) -> tuple[int, dict[str, str], bytes]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        conn.request("GET", parts.path + ("?" + parts.query if parts.query else ""))
        res = conn.getresponse()
        return res.status, dict(res.getheaders()), res.read()
    finally:
        conn.close()


# -- security -----------------------------------------------------------------------------------
def request(srv: UiServer, method: str, path: str, *, host: str | None = None, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.policy.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        if host is not None:
            conn.putheader("Host", host)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        res = conn.getresponse()
        return res.status, dict(res.getheaders()), res.read()
    finally:
        conn.close()


def test_foreign_host_headers_are_refused(server: UiServer) -> None:
    port = server.policy.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", f"LOCALHOST:{port}"):
        assert request(server, "GET", "/api/overview", host=host)[0] == 200, host
    for host in ("evil.example", f"evil.example:{port}", f"localhost.evil.example:{port}", f"127.0.0.1:{port + 1}",
                 "127.0.0.1", f"127.0.0.1:{port}.evil.example"):
        status, _, body = request(server, "GET", "/", host=host)
        assert status == 403, host
        assert json.loads(body)["error"].startswith(f"host '{host}' is not allowed here")
    assert request(server, "GET", "/", host=None)[0] == 400


def test_allow_host_adds_names(demo: Path) -> None:
    with serving(demo, allow_hosts=("dash.internal", "other:9999")) as srv:
        assert request(srv, "GET", "/api/live", host=f"dash.internal:{srv.policy.port}")[0] == 200
        assert request(srv, "GET", "/api/live", host="other:9999")[0] == 200
        assert request(srv, "GET", "/api/live", host=f"other:{srv.policy.port}")[0] == 403


def test_a_non_loopback_session_needs_its_token(demo: Path) -> None:
    with serving(demo) as srv:
        srv.policy = replace(srv.policy, access_token="s3cret-token")  # as --host 0.0.0.0 gets one
        host = f"127.0.0.1:{srv.policy.port}"
        status, _, body = request(srv, "GET", "/api/overview", host=host)
        assert status == 401 and "access token" in json.loads(body)["error"]
        assert request(srv, "GET", "/?token=wrong", host=host)[0] == 401
        status, headers, _ = request(srv, "GET", "/?token=s3cret-token", host=host)
        assert status == 200 and headers["Set-Cookie"].startswith("pv_ui_token=s3cret-token;")
        assert "HttpOnly" in headers["Set-Cookie"] and "SameSite=Strict" in headers["Set-Cookie"]
        assert request(srv, "GET", "/api/overview", host=host, headers={"Cookie": "pv_ui_token=s3cret-token"})[0] == 200
        assert request(srv, "GET", "/api/overview", host=host, headers={"X-PV-Token": "s3cret-token"})[0] == 200


def test_actions_are_refused_without_token_origin_or_allow_actions(demo: Path, server: UiServer, tmp_path: Path) -> None:
    body = json.dumps({"params": ["train.lr=0.15"], "name": "from-the-page"}).encode()
    json_type = {"Content-Type": "application/json"}
    host = f"127.0.0.1:{server.policy.port}"
    status, _, answer = request(server, "POST", "/api/actions/queue", host=host, body=body,
                                headers={**json_type, "Origin": f"http://{host}"})
    assert status == 403 and "actions are off" in json.loads(answer)["error"]
    root = tmp_path / "copy"
    shutil.copytree(demo, root, symlinks=True)
    with serving(root, allow_actions=True) as srv:
        host = f"127.0.0.1:{srv.policy.port}"
        token = srv.policy.action_token
        assert token
        good = {**json_type, "Origin": f"http://{host}", "X-PV-Action-Token": token}
        refused = [
            {**json_type, "Origin": f"http://{host}"},  # no token
            {**good, "X-PV-Action-Token": "guess"},  # a wrong one
            {**good, "Origin": "http://evil.example"},  # another site's page
            {k: v for k, v in good.items() if k != "Origin"},  # no Origin
            {**good, "Content-Type": "text/plain"},  # a form post
        ]
        for headers in refused:
            status, _, answer = request(srv, "POST", "/api/actions/queue", host=host, body=body, headers=headers)
            assert 400 <= status < 500, (headers, answer)
        assert "from-the-page" not in PvRunner().ok("exp", "show", cwd=root).stdout
        status, _, answer = request(srv, "POST", "/api/actions/queue", host=host, body=body, headers=good)
        assert (status, json.loads(answer)["queued"]) == (200, "from-the-page")
        queued = [r for r in pv_json(root, "exp", "show") if r["type"] == "queued"]
        assert [r["name"] for r in queued] == ["queued-crane", "from-the-page"]
        assert queued[1]["params"]["params.yaml"]["train"]["lr"] == 0.15


def test_actions_from_the_page_queue_promote_and_roll_back(browser: Any, demo: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(demo, root, symlinks=True)
    with serving(root, allow_actions=True) as srv:
        with view(browser, srv, "/experiments") as v:
            v.page.fill("#queue-params", "train.lr=0.45 train.epochs=3")
            v.page.fill("#queue-name", "page-queued")
            v.page.click("form:has(#queue-params) button")
            v.page.wait_for_selector('#experiments tr[data-name="page-queued"]')
            assert v.texts('#experiments tr[data-name="page-queued"] td')[5:7] == ["0.45", "3"]
        with view(browser, srv, "/registry") as v:
            card = '.artifact[data-artifact="classifier"]'
            v.page.fill(f'{card} table.versions tr:has-text("v1.1.0") input', "prod")
            v.page.click(f'{card} table.versions tr:has-text("v1.1.0") button')
            v.page.wait_for_selector("#action-result .notice")
            assert v.text("#action-result") == "classifier v1.1.0 is now in 'prod'"
            assert "prod: v1.1.0" in v.texts(f"{card} .controls .badge")[0]
            v.page.click(f'{card} .controls .badge:has-text("prod") button')
            v.page.wait_for_selector("#action-result .notice:has-text('Rolled back')")
            assert "prod: v1.0.0" in v.texts(f"{card} .controls .badge")[0]
    assert pv_json(root, "model", "show")["classifier"]["stages"] == {"prod": "v1.0.0", "staging": "v1.0.0"}
    assert "classifier#prod#6" in git("tag", cwd=root).split()


def test_bad_requests_get_4xx_and_never_a_traceback(server: UiServer, demo: Path) -> None:
    host = f"127.0.0.1:{server.policy.port}"
    cases = [
        ("GET", "/nope", None, {}, 404),
        ("GET", "/static/../../etc/passwd", None, {}, 404),
        ("GET", "/static/vendor/LICENSE.vega", None, {}, 404),
        ("GET", "/api/data/diff?a=no-such-rev", None, {}, 400),
        ("GET", "/api/plots?rev=no-such-rev", None, {}, 400),
        ("GET", "/api/plots/image?rev=HEAD&path=params.yaml", None, {}, 404),  # only image plots are served
        ("GET", "/api/plots/image?rev=HEAD&path=../../etc/passwd.png", None, {}, 404),
        ("GET", "/api/plots/image?path=plots/importance.svg", None, {}, 400),
        ("GET", "/" + "x" * 5000, None, {}, 414),
        ("PUT", "/api/overview", b"{}", {}, 405),
        ("DELETE", "/", None, {}, 405),
        ("POST", "/api/overview", b"{}", {"Content-Type": "application/json"}, 405),
    ]
    for method, path, body, headers, expected in cases:
        status, got_headers, answer = request(server, method, path, host=host, body=body, headers=headers)
        assert status == expected, (method, path, answer)
        assert got_headers["Content-Type"].startswith("application/json")
        doc = json.loads(answer)
        assert doc["error"] and b"Traceback" not in answer
    status, _, answer = request(server, "GET", "/api/data/diff?a=no-such-rev", host=host)
    assert json.loads(answer) == {"error": "unknown revision 'no-such-rev'",
                                  "hint": "use a branch, tag or commit that exists ('git log')"}


def test_pages_and_scripts_are_served_from_the_package_only(server: UiServer) -> None:
    host = f"127.0.0.1:{server.policy.port}"
    status, headers, body = request(server, "GET", "/plots", host=host)
    assert status == 200 and "default-src 'none'" in headers["Content-Security-Policy"]
    html = body.decode()
    assert '<script src="/static/vendor/vega.min.js"></script>' in html and "http" not in html.replace(
        "http-equiv", "")
    status, headers, body = request(server, "GET", "/static/vendor/vega-embed.min.js", host=host)
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert b"vegaEmbed" in body and b"sourceMappingURL" not in body


# -- the command ---------------------------------------------------------------------------------
def test_pv_ui_prints_its_url_serves_and_stops_on_ctrl_c(demo: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "pipever", "ui", "--no-open", "--port", "0"], cwd=demo,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith(f"pv ui: serving {demo} at http://127.0.0.1:"), line
        url = line.rsplit(" ", 1)[1].strip()
        port = int(url.rsplit(":", 1)[1].strip("/"))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/api/overview")
        res = conn.getresponse()
        assert res.status == 200 and json.loads(res.read())["experiments"] == 3
        conn.close()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 0 and out.endswith("pv ui stopped\n") and err == ""


def test_pv_ui_errors(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    res = pv("ui", "--no-open", cwd=outside)
    assert res.exit_code == 1 and res.stderr.startswith("ERROR: ") and "not inside a pipever repository" in res.stderr
    with serving(pv_repo) as srv:
        res = pv("ui", "--no-open", "--port", str(srv.policy.port))
    assert res.exit_code == 1
    assert res.stderr.startswith(f"ERROR: cannot listen on 127.0.0.1:{srv.policy.port}: ")
    assert res.stderr.rstrip().endswith("— choose another --port (0: any free one) or --host")


def test_an_empty_repository_still_renders(browser: Any, pv_repo: Path) -> None:
    with serving(pv_repo) as srv:
        for path in ("/", "/experiments", "/plots", "/pipeline", "/data", "/registry"):
            with view(browser, srv, path) as v:
                assert "Error" not in v.text("main"), (path, v.text("main"))
