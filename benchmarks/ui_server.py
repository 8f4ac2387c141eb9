"""``pv ui`` with many experiments: server time of ``/api/experiments`` (the ``pv exp show`` table)
for a repository with N experiments (default 200; goal: under 1 s).

    .venv/bin/python -m benchmarks.ui_server [--experiments 200] [--requests 5] [--keep DIR]

The repo is built untimed: a three-stage pipeline, one real ``pv exp run``, and N-1 more
experiment commits made from it with git plumbing (each with its own params and metrics, as
``pv exp run`` would record them). Then the server runs in this process and answers
``--requests`` GETs of ``/api/experiments`` (and one of each other API) over HTTP; the figure is
the time the server spent in each answer (``UiServer.stats``): cold (a fresh process, nothing read
yet; ``pv ui`` itself reads the experiments in the background as it starts), then warm (each
experiment commit's values are kept: commits never change; the workspace row, HEAD and the list
of experiments are read again on every request).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

GOAL_S = 1.0
PIPELINE = f"""\
stages:
  prepare:
    cmd: {sys.executable} -c "open('prepared.txt', 'w').write('x' * 1000)"
    outs: [prepared.txt]
  train:
    cmd: {sys.executable} train.py
    deps: [train.py, prepared.txt]
    params: [train]
    metrics: [{{metrics.json: {{cache: false}}}}]
"""
TRAIN = """\
import json, yaml
p = yaml.safe_load(open("params.yaml"))["train"]
json.dump({"acc": round(1 - p["lr"] / 10, 4), "loss": round(p["lr"] * p["epochs"] / 100, 4)}, open("metrics.json", "w"))
"""
ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@example.com", "GIT_COMMITTER_NAME": "bench",
       "GIT_COMMITTER_EMAIL": "b@example.com", "GIT_CONFIG_NOSYSTEM": "1"}


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, data: bytes | None = None) -> str:
    proc = subprocess.run(list(args), cwd=cwd, env={**os.environ, **ENV, **(env or {})}, input=data,
                          capture_output=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout.decode().strip()


def build(root: Path, n: int) -> None:
    pv = [sys.executable, "-m", "pipever"]
    run("git", "init", "-q", "-b", "main", cwd=root)
    run(*pv, "init", cwd=root)
    (root / "pv.yaml").write_text(PIPELINE)
    (root / "train.py").write_text(TRAIN)
    (root / "params.yaml").write_text("train:\n  lr: 0.1\n  epochs: 10\n  seed: 1\n")
    run(*pv, "repro", cwd=root)
    run("git", "add", "-A", cwd=root)
    run("git", "commit", "-qm", "baseline", cwd=root)
    run(*pv, "exp", "run", "-S", "train.lr=0.2", "-n", "exp-000", cwd=root)
    first = run("git", "rev-parse", "refs/exps/exp-000", cwd=root)
    base = run("git", "rev-parse", "HEAD", cwd=root)
    index = {"GIT_INDEX_FILE": str(root / ".git" / "bench-index")}
    for i in range(1, n):
        lr, epochs = round(0.01 * (i % 97) + 0.01, 3), 5 + i % 20
        params = f"train:\n  lr: {lr}\n  epochs: {epochs}\n  seed: 1\n".encode()
        metrics = json.dumps({"acc": round(1 - lr / 10, 4), "loss": round(lr * epochs / 100, 4)}).encode()
        run("git", "read-tree", first, cwd=root, env=index)
        for name, body in (("params.yaml", params), ("metrics.json", metrics)):
            blob = run("git", "hash-object", "-w", "--stdin", cwd=root, data=body)
            run("git", "update-index", "--cacheinfo", f"100644,{blob},{name}", cwd=root, env=index)
        tree = run("git", "write-tree", cwd=root, env=index)
        sha = run("git", "commit-tree", tree, "-p", base, "-m", f"pv exp run: exp-{i:03d}", cwd=root)
        run("git", "update-ref", f"refs/exps/exp-{i:03d}", sha, cwd=root)


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", path)
        res = conn.getresponse()
        return res.status, res.read()
    finally:
        conn.close()


def measure(root: Path, requests: int) -> dict[str, object]:
    from pipever.ui.server import make_server

    server = make_server(root)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    port = server.policy.port
    walls = []
    try:
        for _ in range(requests):
            start = time.perf_counter()
            status, body = get(port, "/api/experiments")
            walls.append(time.perf_counter() - start)
            if status != 200:
                raise SystemExit(f"/api/experiments answered {status}: {body[:300]!r}")
        rows = len(json.loads(body)["rows"])
        others = {}
        for path in ("/api/overview", "/api/pipeline", "/api/data", "/api/registry", "/experiments"):
            start = time.perf_counter()
            status, _ = get(port, path)
            others[path] = round(time.perf_counter() - start, 4)
    finally:
        server.shutdown()
        server.server_close()
    server_s = server.stats.seconds["/api/experiments"]
    return {"rows": rows, "bytes": len(body), "server_s": [round(s, 4) for s in server_s],
            "cold_s": round(server_s[0], 4), "warm_median_s": round(statistics.median(server_s[1:] or server_s), 4),
            "wall_s": [round(w, 4) for w in walls], "other_wall_s": others}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--experiments", type=int, default=200)
    ap.add_argument("--requests", type=int, default=5)
    ap.add_argument("--keep", type=Path, help="build the repo here and keep it")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pv-ui-bench-") as tmp:
        root = args.keep or Path(tmp) / "repo"
        root.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        if not (root / ".pv").exists():
            build(root, args.experiments)
        print(f"built {args.experiments} experiments in {time.perf_counter() - start:.1f} s (untimed)")
        res = measure(root, args.requests)
    ok = float(res["warm_median_s"]) < GOAL_S  # type: ignore[arg-type]
    print(f"/api/experiments: {res['rows']} rows, {res['bytes']} bytes; server time cold {res['cold_s']} s, "
          f"warm median {res['warm_median_s']} s (each: {res['server_s']}); goal < {GOAL_S} s (warm): "
          f"{'met' if ok else 'NOT met'}")
    print(f"other pages (wall, s): {res['other_wall_s']}")
    print(json.dumps(res))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
