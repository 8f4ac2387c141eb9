"""A remote that goes away, cannot be reached, or lacks its bucket: clean, bounded errors that name
the remote and never its secrets; a rerun after the outage resumes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.helpers import gen
from tests.s3server import SECRET, RemoteCase, S3Server, TcpGate, local_case, s3_case

pytestmark = pytest.mark.s3


class CutAfter:
    """A progress bar that cuts the network after ``n`` objects were transferred."""

    def __init__(self, gate: TcpGate, n: int) -> None:
        self.gate, self.n, self.seen, self.pushing = gate, n, 0, False

    def start(self, description: str, total: int | None = None, *, unit: str = "files") -> None:
        self.pushing = description.startswith("Pushing")

    def advance(self, n: int = 1) -> None:
        if self.pushing:
            self.seen += n
            if self.seen == self.n:
                self.gate.cut()

    def done(self) -> None:
        return None


def test_server_gone_mid_push_is_a_clean_error_and_a_rerun_resumes(
    pv_repo: Path, pv, s3_server: S3Server, aws_env: None, monkeypatch: pytest.MonkeyPatch,
) -> None:
    gate = TcpGate(int(s3_server.endpoint.rsplit(":", 1)[1]))
    case = s3_case(s3_server, endpoint=gate.endpoint)
    gen({"data": {f"f{i:03}.txt": f"file {i}\n" for i in range(60)}})
    pv.ok("add", "data")
    case.configure(pv)
    pv.ok("remote", "modify", "storage", "layout", "loose")  # one request per object (packs: test_packs.py)
    pv.ok("remote", "modify", "storage", "jobs", "4")
    pv.ok("remote", "modify", "storage", "retries", "1")  # keeps the test short; the default is 3
    from pipever.cli import render

    real_progress = render.progress
    monkeypatch.setattr(render, "progress", lambda: CutAfter(gate, 10))
    started = time.monotonic()
    res = pv("push")
    elapsed = time.monotonic() - started
    assert res.exit_code == 1, res
    assert elapsed < 45
    err = res.stderr
    assert err.startswith("ERROR: failed to push ")
    assert f"cannot reach remote 'storage' ({case.url})" in err
    assert "rerun the command" in err
    assert "Traceback" not in err and SECRET not in err
    stored = case.objects()
    assert 10 <= len(stored) < 61
    assert not any(s.endswith(".dir") for s in stored)  # never a manifest without its files

    gate.restore()
    monkeypatch.setattr(render, "progress", real_progress)
    res = pv.ok("push")
    assert res.stdout == f"{61 - len(stored)} files pushed\n"
    assert len(case.objects()) == 61
    gate.cut()


def test_unreachable_endpoint_fails_fast_naming_the_remote_not_its_secret(
    pv_repo: Path, pv, s3_server: S3Server, aws_env: None,
) -> None:
    gate = TcpGate(int(s3_server.endpoint.rsplit(":", 1)[1]))
    case = s3_case(s3_server, endpoint=gate.endpoint)
    gate.cut()  # nothing listens on that port any more
    gen({"f.txt": "x"})
    pv.ok("add", "f.txt")
    case.configure(pv)
    pv.ok("remote", "modify", "storage", "retries", "1")
    for args in (["push"], ["status", "-c"], ["-v", "fetch"]):
        if args[-1] == "fetch":  # fetch asks the remote only for what the cache lacks
            for obj in (pv_repo / ".pv" / "cache").rglob("*"):
                if obj.is_file():
                    obj.chmod(0o644)
                    obj.unlink()
        started = time.monotonic()
        res = pv(*args)
        assert res.exit_code == 1
        assert time.monotonic() - started < 10
        assert f"ERROR: cannot reach remote 'storage' ({case.url}): Could not connect to the endpoint URL" in res.stderr
        assert "check the network" in res.stderr
        assert SECRET not in res.stderr + res.stdout


def test_missing_bucket_is_named(pv_repo: Path, pv, s3_server: S3Server, aws_env: None) -> None:
    case = s3_case(s3_server)
    case.url = "s3://pv-no-such-bucket/p"
    gen({"f.txt": "x"})
    pv.ok("add", "f.txt")
    case.configure(pv)
    res = pv("push")
    assert res.exit_code == 1
    assert res.stderr == (
        "ERROR: the bucket of remote 'storage' (s3://pv-no-such-bucket/p) does not exist — create it, "
        "or fix the URL with 'pv remote modify storage url URL'\n"
    )


def test_local_remote_partial_failure_lists_the_failed_paths(pv_repo: Path, pv, tmp_path: Path) -> None:
    """A real failure, no injection: one shard directory of the remote is blocked by a file."""
    case: RemoteCase = local_case(tmp_path)
    gen({"a.txt": "a", "b.txt": "b"})
    pv.ok("add", "a.txt", "b.txt")
    case.configure(pv)
    pv.ok("remote", "modify", "storage", "layout", "loose")  # per-object paths (packs: test_packs.py)
    from pipever.objects.hashing import hash_bytes

    oid = hash_bytes(b"a")
    blocker = Path(case.root) / "blake3" / oid.hex[:2]
    blocker.parent.mkdir(parents=True)
    blocker.write_text("in the way")
    res = pv("push")
    assert res.exit_code == 1
    assert f"failed to push 1 object(s)" in res.stderr and f"a.txt ({oid})" in res.stderr
    assert "1 other object(s) were transferred" in res.stderr
    blocker.unlink()
    assert pv.ok("push").stdout == "1 file pushed\n"


class _NotFoundEverywhere:
    """A real HTTP server on 127.0.0.1 that is not S3: every request gets '404 Not Found', as an
    'endpoint_url' pointing at the wrong service or path does."""

    def __enter__(self) -> str:
        import http.server
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            def _nope(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _nope

            def log_message(self, *args: object) -> None:
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_an_endpoint_that_is_not_s3_is_not_reported_as_missing_objects(
    pv_repo: Path, pv, s3_server: S3Server, aws_env: None,
) -> None:
    """Every listing answered 404 was read as 'the object is not on the remote': push said
    'not on remote … — push it from a machine that has it'."""
    gen({"f.txt": "x"})
    pv.ok("add", "f.txt")
    with _NotFoundEverywhere() as endpoint:
        case = s3_case(s3_server, endpoint=endpoint)
        case.configure(pv)
        pv.ok("remote", "modify", "storage", "retries", "0")
        for args in (["push"], ["status", "-c"], ["fetch"], ["pull"]):
            if args == ["fetch"]:  # fetch asks the remote only for what the cache lacks
                for obj in (pv_repo / ".pv" / "cache").rglob("*"):
                    if obj.is_file():
                        obj.chmod(0o644)
                        obj.unlink()
            res = pv(*args)
            assert res.exit_code == 1, (args, res)
            assert res.stderr.startswith(
                f"ERROR: remote 'storage' ({case.url}) cannot list its objects: Not Found — check its URL "
                "and 'endpoint_url' ('pv remote list')"
            ), (args, res.stderr)
            assert "push it from" not in res.stderr and SECRET not in res.stderr + res.stdout
