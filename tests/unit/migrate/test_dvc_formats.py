"""DVC's formats as ``pv migrate dvc`` reads them: golden values from what DVC 3.67 wrote."""

from __future__ import annotations

import hashlib
import io

import pytest

from pipever.errors import ConfigError, ManifestError, SchemaError
from pipever.commands.migrate import dvcconfig
from pipever.commands.migrate.dvcfiles import import_deps, parse_dvcfile, parse_lock
from pipever.commands.migrate.dvcobjects import CHUNK, dir_bytes, dir_md5, hash_stream, is_text, object_paths, parse_dir

# written by `dvc add images` (DVC 3.67) for a.txt='one\n', run.sh='#!/bin/sh\necho hi\n', sub/b.txt='two\n'
DIR_ENTRIES = [("a.txt", "5bbf5a52328e7439ae6e719dfe712200"), ("run.sh", "46bbbe8aa98cc0714426e948474eaaf4"),
               ("sub/b.txt", "c193497a1a06b2c72230e6146ff47080")]
DIR_BYTES = (b'[{"md5": "5bbf5a52328e7439ae6e719dfe712200", "relpath": "a.txt"}, '
             b'{"md5": "46bbbe8aa98cc0714426e948474eaaf4", "relpath": "run.sh"}, '
             b'{"md5": "c193497a1a06b2c72230e6146ff47080", "relpath": "sub/b.txt"}]')


def test_dir_manifest_bytes_and_md5_are_dvcs() -> None:
    assert dir_bytes(reversed(DIR_ENTRIES)) == DIR_BYTES
    assert dir_md5(DIR_ENTRIES) == "d2db352242abfa3ed247211d9615db00"
    assert [(e.relpath, e.md5) for e in parse_dir(DIR_BYTES, "images")] == DIR_ENTRIES


@pytest.mark.parametrize("bad", [b"{}", b"not json", b'[{"md5": "x", "relpath": "a"}]',
                                 b'[{"md5": "5bbf5a52328e7439ae6e719dfe712200", "relpath": "../escape"}]'])
def test_bad_dir_manifest_is_refused(bad: bytes) -> None:
    with pytest.raises(ManifestError):
        parse_dir(bad, "images")


def test_object_paths_of_both_layouts() -> None:
    h = "b202f333fba4fd38d4b8e5e693077aab"
    assert object_paths(h, is_dir=False, legacy=False) == [f"files/md5/b2/{h[2:]}", f"b2/{h[2:]}"]
    assert object_paths(h, is_dir=True, legacy=True) == [f"b2/{h[2:]}.dir", f"files/md5/b2/{h[2:]}.dir"]


def test_md5_dos2unix_and_blake3_in_one_pass() -> None:
    data = b"a,b\r\n1,2\r\n"
    d = hash_stream(io.BytesIO(data))
    assert d.md5 == "b202f333fba4fd38d4b8e5e693077aab"  # DVC 3's md5 of this file
    assert d.md5_dos2unix == hashlib.md5(b"a,b\n1,2\n").hexdigest()
    assert d.matches(d.md5_dos2unix, legacy=True) and not d.matches(d.md5_dos2unix, legacy=False)
    assert d.size == len(data)
    assert hash_stream(io.BytesIO(b"\x00\r\n")).md5_dos2unix is None  # binary: DVC 2 hashed it as is


def test_dos2unix_per_chunk_as_dvc2_did() -> None:
    data = b"x" * (CHUNK - 1) + b"\r\n" + b"y\r\n"  # the first CRLF straddles the chunk boundary
    d = hash_stream(io.BytesIO(data))
    assert d.md5_dos2unix == hashlib.md5(b"x" * (CHUNK - 1) + b"\r\n" + b"y\n").hexdigest()


def test_is_text_heuristic() -> None:
    assert is_text(b"") and is_text(b"plain text\n") and not is_text(b"\x00abc")
    assert not is_text(bytes(range(128, 256)))


def test_dvc_file_of_dvc3_and_dvc2() -> None:
    d = parse_dvcfile("outs:\n- md5: 3e2b31c72181b87149ff995e7202c0e3\n  size: 10\n  isexec: true\n"
                      "  hash: md5\n  path: tool.sh\n  desc: a tool\n", "bin/tool.sh.dvc")
    out = d.outs[0]
    assert (out.md5, out.is_dir, out.legacy, out.isexec, out.extra) == (
        "3e2b31c72181b87149ff995e7202c0e3", False, False, True, {"desc": "a tool"})
    assert d.out_rel(out) == "bin/tool.sh"
    old = parse_dvcfile("outs:\n- md5: d2db352242abfa3ed247211d9615db00.dir\n  size: 26\n  nfiles: 3\n"
                        "  path: images\n", "images.dvc")
    assert old.outs[0].is_dir and old.outs[0].legacy and old.outs[0].nfiles == 3


@pytest.mark.parametrize("text", ["outs:\n- md5: 123\n  path: x\n", "outs:\n- md5: 3e2b31c72181b87149ff995e7202c0e3\n  path: ../../etc\n",
                                  "outs: 3\n", "[1, 2]\n"])
def test_bad_dvc_file_is_a_schema_error(text: str) -> None:
    with pytest.raises(SchemaError):
        parse_dvcfile(text, "x.dvc")


def test_import_file_keeps_its_source() -> None:
    d = parse_dvcfile("md5: 0123\nfrozen: true\ndeps:\n- path: data/data.xml\n  repo:\n    url: https://host/r\n"
                      "    rev_lock: abc\nouts:\n- md5: 3e2b31c72181b87149ff995e7202c0e3\n  size: 1\n  hash: md5\n"
                      "  path: data.xml\n", "data.xml.dvc")
    assert import_deps(d) == [{"path": "data/data.xml", "repo": {"url": "https://host/r", "rev_lock": "abc"}}]
    url = parse_dvcfile("deps:\n- etag: '0x1'\n  size: 5\n  path: https://host/f.csv\nouts:\n"
                        "- md5: 3e2b31c72181b87149ff995e7202c0e3\n  path: f.csv\n", "f.csv.dvc")
    assert url.is_import_url and import_deps(url) == [{"path": "https://host/f.csv", "etag": "0x1", "size": 5}]


def test_lock_schema_2_and_dvc1() -> None:
    lock = parse_lock("schema: '2.0'\nstages:\n  train:\n    cmd: [a, b]\n    deps:\n    - path: ../x\n"
                      "      hash: md5\n      md5: b202f333fba4fd38d4b8e5e693077aab\n      size: 10\n"
                      "    params:\n      ../params.yaml:\n        lr: 0.1\n", "sub/dvc.lock")
    assert lock["train"].cmd == ("a", "b") and lock["train"].deps[0].path == "../x"
    assert lock["train"].params == {"../params.yaml": {"lr": 0.1}}
    assert list(parse_lock("prep:\n  cmd: run\n", "dvc.lock")) == ["prep"]
    with pytest.raises(SchemaError):
        parse_lock("schema: '3.0'\nstages: {}\n", "dvc.lock")


CONFIG = """\
[core]
    remote = storage
    autostage = true
    site_cache_dir = /var/x
['remote "storage"']
    url = s3://bucket/prefix   # the team bucket
    endpointurl = https://minio.local:9000
    profile = team
    checksum_jobs = 8
[remote "ssh"]
    url = ssh://user@host/srv/dvc
    keyfile = keys/id_rsa
    port = 2222
['remote "nested"']
    url = remote://storage/sub/dir
['remote "near"']
    url = ../../storage
[cache]
    type = reflink, copy
    dir = ../cache-here
[feature]
    machine = true
"""
LOCAL = """\
['remote "storage"']
    access_key_id = AKIA
    secret_access_key = "s3cr3t"
"""


def test_config_parse_and_translate() -> None:
    conf = dvcconfig.merged([(".dvc/config", CONFIG), (".dvc/config.local", LOCAL)])
    assert conf['remote "storage"']["url"] == "s3://bucket/prefix"
    assert conf["cache"]["type"] == ["reflink", "copy"]
    t = dvcconfig.translate(conf, root="/repo")
    assert t.repo["core.remote"] == "storage" and t.repo["core.autostage"] is True
    assert t.repo["remote.storage.endpoint_url"] == "https://minio.local:9000"
    assert t.repo["remote.storage.profile"] == "team"
    assert t.local["remote.storage.secret_access_key"] == "s3cr3t"
    assert t.local["remote.storage.access_key_id"] == "AKIA"
    assert t.repo["remote.nested.url"] == "s3://bucket/prefix/sub/dir"
    assert t.repo["remote.near.url"] == "../storage"  # relative to the root, not .dvc/
    assert t.local["remote.ssh.keyfile"] == "/repo/.dvc/keys/id_rsa" and t.repo["remote.ssh.port"] == 2222
    assert t.repo["cache.type"] == "reflink,copy"
    assert t.repo["cache.dir"] == "../cache-here"  # inside the work tree, relative to .pv/ as to .dvc/
    assert any("checksum_jobs" in n for n in t.notes) and any("[feature]" in n for n in t.notes)
    assert any("site_cache_dir" in n for n in t.notes)


def test_security_weakening_options_come_only_from_config_local() -> None:
    committed = dvcconfig.parse("['remote \"s\"']\n    url = s3://b/p\n    ssl_verify = false\n"
                                "    use_ssl = false\n", ".dvc/config")
    local = dvcconfig.parse("['remote \"s\"']\n    use_ssl = false\n", ".dvc/config.local")
    conf = dvcconfig.merged([(".dvc/config", "['remote \"s\"']\n    url = s3://b/p\n    ssl_verify = false\n"
                                             "    use_ssl = false\n"),
                             (".dvc/config.local", "['remote \"s\"']\n    use_ssl = false\n")])
    t = dvcconfig.translate(conf, root="/r", committed=committed, local=local)
    assert "remote.s.ssl_verify" not in t.local and "remote.s.ssl_verify" not in t.repo
    assert t.local["remote.s.use_ssl"] is False  # the user's own config.local said so
    assert any("'ssl_verify' from the committed .dvc/config is not carried over" in n for n in t.notes)


def test_cache_outside_the_work_tree_goes_to_local_config() -> None:
    t = dvcconfig.translate(dvcconfig.parse("[cache]\n    dir = ../../shared\n", "c"), root="/home/me/repo")
    assert t.local == {"cache.dir": "../../shared"} and "cache.dir" not in t.repo
    t = dvcconfig.translate(dvcconfig.parse("[cache]\n    dir = /mnt/cache\n", "c"), root="/r")
    assert t.local == {"cache.dir": "/mnt/cache"}


def test_bad_config_line_is_an_error() -> None:
    with pytest.raises(ConfigError):
        dvcconfig.parse("[core]\nthis is not a setting\n", ".dvc/config")
