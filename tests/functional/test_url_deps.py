"""URL deps and outs of stages, ``pv import-url``, ``pv get-url`` and ``pv update`` of URL imports
(SPEC §8.1, §6), against a local HTTP server and the moto S3 server, both on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.httpserve import serve_dir
from tests.helpers import PvRunner, gen, git
from tests.s3server import REGION, S3Server, _aws_env, s3_case


@pytest.fixture
def http_dir(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on 127.0.0.1 (Python's server: no ETag, so pv records an md5)."""
    root = tmp_path / "served"
    root.mkdir()
    with serve_dir(root) as base:
        yield root, base


@pytest.fixture
def s3(s3_server: S3Server, pv_repo: Path, pv: PvRunner, tmp_path: Path,
       monkeypatch: pytest.MonkeyPatch) -> tuple[str, object]:
    """A bucket with a remote 'store' over it (its options used for URLs under it)."""
    _aws_env(monkeypatch, tmp_path)
    case = s3_case(s3_server)
    bucket = case.url.split("/")[2]
    pv.ok("remote", "add", "store", f"s3://{bucket}")
    for k, v in case.local_options.items():
        pv.ok("remote", "modify", "--local", "store", k, v)
    return bucket, case.fs


def _lock(root: Path) -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((root / "pv.lock").read_text())


def test_http_dep_is_recorded_and_makes_the_stage_stale_when_it_changes(
        pv_repo: Path, pv: PvRunner, http_dir: tuple[Path, str]) -> None:
    served, base = http_dir
    (served / "data.csv").write_text("a,b\n1,2\n")
    url = f"{base}/data.csv"
    gen({"pv.yaml": f"stages:\n  count:\n    cmd: echo counted > n.txt\n    deps:\n    - {url}\n    outs: [n.txt]\n"})
    pv.ok("repro")
    dep = _lock(pv_repo)["stages"]["count"]["deps"][0]
    assert dep == {"path": url, "checksum": "md5:" + __import__("hashlib").md5(b"a,b\n1,2\n").hexdigest(), "size": 8}
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"
    assert not list((pv_repo / ".pv/cache").rglob("*.csv"))  # a URL dep is never copied into the cache
    (served / "data.csv").write_text("a,b\n1,3\n")
    assert pv.ok("status").stdout == f"count:\n\tchanged deps:\n\t\tmodified:           {url}\n"
    assert pv.ok("repro", "--dry").stdout.startswith("Would run stage 'count':")
    (served / "data.csv").unlink()
    assert "deleted" in pv.ok("status").stdout
    res = pv("repro")
    assert res.exit_code == 1 and f"dependency '{url}' of stage 'count' does not exist" in res.stderr


def test_s3_dep_identity_is_the_etag_and_size(pv_repo: Path, pv: PvRunner, s3: tuple[str, object]) -> None:
    bucket, fs = s3
    fs.pipe_file(f"{bucket}/raw/data.csv", b"x,y\n1,2\n")  # type: ignore[attr-defined]
    url = f"s3://{bucket}/raw/data.csv"
    gen({"pv.yaml": f"stages:\n  use:\n    cmd: echo used > u.txt\n    deps: ['{url}']\n    outs: [u.txt]\n"})
    pv.ok("repro")
    dep = _lock(pv_repo)["stages"]["use"]["deps"][0]
    assert dep["path"] == url and dep["size"] == 8 and dep["etag"].strip('"')
    assert pv.ok("status").stdout == "Data and pipelines are up to date.\n"
    fs.pipe_file(f"{bucket}/raw/data.csv", b"x,y\n1,2\n3,4\n")  # type: ignore[attr-defined]
    assert "modified:           " + url in pv.ok("status").stdout
    pv.ok("repro")
    assert _lock(pv_repo)["stages"]["use"]["deps"][0]["size"] == 12


def test_import_url_records_the_url_caches_the_data_and_update_refreshes_it(
        pv_repo: Path, pv: PvRunner, s3: tuple[str, object]) -> None:
    bucket, fs = s3
    fs.pipe_file(f"{bucket}/sets/train.csv", b"1\n2\n")  # type: ignore[attr-defined]
    fs.pipe_file(f"{bucket}/sets/images/a.png", b"png-a")  # type: ignore[attr-defined]
    fs.pipe_file(f"{bucket}/sets/images/sub/b.png", b"png-b")  # type: ignore[attr-defined]
    res = pv.ok("import-url", f"s3://{bucket}/sets/train.csv", "data/train.csv")
    assert "Staged in Git:" in res.stdout
    pointer = yaml.safe_load((pv_repo / "data/train.csv.pv").read_text())
    assert pointer["outs"][0]["path"] == "train.csv" and pointer["outs"][0]["size"] == 4
    assert pointer["deps"][0]["path"] == f"s3://{bucket}/sets/train.csv" and pointer["deps"][0]["etag"]
    assert (pv_repo / "data/train.csv").read_text() == "1\n2\n"
    assert "/train.csv" in (pv_repo / "data/.gitignore").read_text()
    assert "data/train.csv.pv" in git("diff", "--cached", "--name-only").split()
    pv.ok("import-url", f"s3://{bucket}/sets/images")  # a folder (prefix)
    assert (pv_repo / "images/sub/b.png").read_bytes() == b"png-b"
    assert yaml.safe_load((pv_repo / "images.pv").read_text())["outs"][0]["nfiles"] == 2

    assert pv.ok("update").stdout.count("is up to date") == 2
    fs.pipe_file(f"{bucket}/sets/train.csv", b"1\n2\n3\n")  # type: ignore[attr-defined]
    res = pv.ok("update", "data/train.csv.pv")
    assert res.stdout.startswith("Updated data/train.csv (6 B)")
    assert (pv_repo / "data/train.csv").read_text() == "1\n2\n3\n"
    (pv_repo / "data/train.csv").unlink()
    pv.ok("checkout")  # the data is in the cache
    assert (pv_repo / "data/train.csv").read_text() == "1\n2\n3\n"


def test_get_url_downloads_without_tracking(pv_repo: Path, pv: PvRunner, http_dir: tuple[Path, str]) -> None:
    served, base = http_dir
    (served / "model.bin").write_bytes(b"\x00\x01weights")
    assert pv.ok("get-url", f"{base}/model.bin").stdout == "Downloaded to model.bin\n"
    assert (pv_repo / "model.bin").read_bytes() == b"\x00\x01weights"
    assert not (pv_repo / "model.bin.pv").exists()
    res = pv("get-url", f"{base}/model.bin")
    assert res.exit_code == 1 and res.stderr.startswith("ERROR: 'model.bin' already exists")
    res = pv("get-url", f"{base}/missing.bin", "x.bin")
    assert res.exit_code == 1 and res.stderr.startswith("ERROR: ") and not (pv_repo / "x.bin").exists()


def test_url_out_needs_cache_false_and_is_never_deleted(pv_repo: Path, pv: PvRunner, s3: tuple[str, object]) -> None:
    bucket, fs = s3
    url = f"s3://{bucket}/published/report.txt"
    fs.pipe_file(url[5:], b"kept")  # type: ignore[attr-defined]
    gen({"pv.yaml": f"stages:\n  pub:\n    cmd: echo local > l.txt\n    outs:\n    - l.txt\n    - {url}\n"})
    res = pv("repro")
    assert res.exit_code == 1 and "needs 'cache: false'" in res.stderr
    gen({"pv.yaml": f"stages:\n  pub:\n    cmd: echo local > l.txt\n    outs:\n    - l.txt\n    - {url}:\n"
                    "        cache: false\n"})
    pv.ok("repro")
    pv.ok("repro", "-f")
    assert fs.cat_file(url[5:]) == b"kept"  # type: ignore[attr-defined]
    assert REGION  # the bucket lives in the test region
