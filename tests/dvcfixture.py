"""Build DVC-format repositories in tests, byte for byte as DVC 3 (and DVC 2) writes them, without
DVC: ``.dvc`` pointer files, ``dvc.yaml``/``dvc.lock``, ``.dvc/config`` and the cache and a
local-folder remote in DVC's layout (``files/md5/xx/rest``, DVC 2: ``xx/rest``; ``.dir`` JSON
manifests). The formats were checked against what DVC 3.67 writes."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import yaml


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()  # noqa: S324 - DVC's identity


def dos2unix_md5(data: bytes) -> str:
    return md5(data.replace(b"\r\n", b"\n"))


def dir_manifest(entries: dict[str, str]) -> bytes:
    items = [{"md5": h, "relpath": rel} for rel, h in sorted(entries.items())]
    return json.dumps(items, sort_keys=True).encode("utf-8")


def _looks_like_text(data: bytes) -> bool:
    """DVC 2's test on the first 512 bytes: no NUL byte, at most 30% bytes outside printable text."""
    head = data[:512]
    if not head:
        return True
    if b"\x00" in head:
        return False
    unusual = head.translate(None, bytes(range(32, 127)) + b"\n\r\t\f\b")
    return len(unusual) / len(head) <= 0.30


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


class DvcRepo:
    """A DVC repository at ``root`` (already a Git work tree) with a local remote at ``remote``."""

    def __init__(self, root: Path, remote: Path | None = None, *, legacy: bool = False) -> None:
        self.root = root
        self.remote = remote
        self.legacy = legacy  # write DVC 2's layout and pointer files
        (root / ".dvc").mkdir(exist_ok=True)
        (root / ".dvc" / ".gitignore").write_text("/config.local\n/tmp\n/cache\n")
        config = "[core]\n    autostage = true\n"
        if remote is not None:
            remote.mkdir(parents=True, exist_ok=True)
            rel = os.path.relpath(remote, root / ".dvc")
            config += f"    remote = store\n['remote \"store\"']\n    url = {rel}\n"
        (root / ".dvc" / "config").write_text(config)
        (root / ".dvcignore").write_text("# Add patterns of files dvc should ignore\n")

    # -- objects --------------------------------------------------------------------------------
    def _obj_rel(self, h: str, *, is_dir: bool = False) -> str:
        name = f"{h[:2]}/{h[2:]}" + (".dir" if is_dir else "")
        return name if self.legacy else f"files/md5/{name}"

    def put(self, data: bytes, h: str, *, where: str, is_dir: bool = False) -> Path:
        """Store an object in the cache ('cache'), on the remote ('remote') or both ('both')."""
        paths = []
        if where in ("cache", "both"):
            paths.append(self.root / ".dvc" / "cache" / self._obj_rel(h, is_dir=is_dir))
        if where in ("remote", "both"):
            assert self.remote is not None
            paths.append(self.remote / self._obj_rel(h, is_dir=is_dir))
        for p in paths:
            p.parent.mkdir(parents=True, exist_ok=True)
            if p.exists():
                os.chmod(p, 0o644)
            p.write_bytes(data)
            os.chmod(p, 0o444)
        return paths[0]

    def hash_of(self, data: bytes) -> str:
        """The md5 DVC records: DVC 2 turned CRLF into LF in files it took for text."""
        return dos2unix_md5(data) if self.legacy and _looks_like_text(data) else md5(data)

    def _out(self, path: str, h: str, size: int, *, nfiles: int | None = None, isexec: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"md5": h + (".dir" if nfiles is not None else ""), "size": size}
        if nfiles is not None:
            out["nfiles"] = nfiles
        if isexec:
            out["isexec"] = True
        if not self.legacy:
            out["hash"] = "md5"
        out["path"] = path
        return out

    # -- tracked data ---------------------------------------------------------------------------
    def add_file(self, rel: str, data: bytes, *, where: str = "cache", workspace: bool = True) -> str:
        """``dvc add`` of a file; returns its md5."""
        h = self.hash_of(data)
        full = self.root / rel
        full.parent.mkdir(parents=True, exist_ok=True)
        if workspace:
            full.write_bytes(data)
        self.put(data, h, where=where)
        name = rel.rsplit("/", 1)[-1]
        (self.root / f"{rel}.dvc").write_text(_dump({"outs": [self._out(name, h, len(data))]}))
        self._ignore(rel)
        return h

    def dir_object(self, files: dict[str, bytes], *, where: str) -> tuple[str, int]:
        entries = {}
        for rel, data in files.items():
            entries[rel] = self.hash_of(data)
            self.put(data, entries[rel], where=where)
        manifest = dir_manifest(entries)
        h = md5(manifest)
        self.put(manifest, h, where=where, is_dir=True)
        return h, sum(len(d) for d in files.values())

    def add_dir(self, rel: str, files: dict[str, bytes], *, where: str = "cache", workspace: bool = True) -> str:
        h, size = self.dir_object(files, where=where)
        if workspace:
            for name, data in files.items():
                p = self.root / rel / name
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_bytes(data)
        name = rel.rsplit("/", 1)[-1]
        (self.root / f"{rel}.dvc").write_text(_dump({"outs": [self._out(name, h, size, nfiles=len(files))]}))
        self._ignore(rel)
        return h

    def add_import(self, rel: str, data: bytes, *, url: str, path: str, rev_lock: str, rev: str | None = None) -> None:
        """A ``dvc import`` of ``path`` from the Git repository ``url``."""
        h = self.hash_of(data)
        (self.root / rel).write_bytes(data)
        self.put(data, h, where="cache")
        repo: dict[str, Any] = {"url": url}
        if rev:
            repo["rev"] = rev
        repo["rev_lock"] = rev_lock
        doc = {"md5": "0" * 32, "frozen": True, "deps": [{"path": path, "repo": repo}],
               "outs": [self._out(rel.rsplit("/", 1)[-1], h, len(data))]}
        (self.root / f"{rel}.dvc").write_text(_dump(doc))
        self._ignore(rel)

    def _ignore(self, rel: str) -> None:
        d, _, name = rel.rpartition("/")
        gi = self.root / d / ".gitignore" if d else self.root / ".gitignore"
        text = gi.read_text() if gi.exists() else ""
        if f"/{name}\n" not in text:
            gi.write_text(text + f"/{name}\n")

    # -- pipelines ------------------------------------------------------------------------------
    def lock_path(self, path: str, *, data: bytes | None = None, files: dict[str, bytes] | None = None) -> dict[str, Any]:
        """A dvc.lock dep/out entry for the content given (a file's bytes or a directory's files)."""
        entry: dict[str, Any] = {"path": path}
        if not self.legacy:
            entry["hash"] = "md5"
        if files is not None:
            entries = {rel: self.hash_of(d) for rel, d in files.items()}
            entry["md5"] = md5(dir_manifest(entries)) + ".dir"
            entry["size"] = sum(len(d) for d in files.values())
            entry["nfiles"] = len(files)
        else:
            assert data is not None
            entry["md5"] = self.hash_of(data)
            entry["size"] = len(data)
        return entry

    def write_pipeline(self, dvc_yaml: str, stages: dict[str, dict[str, Any]], *, where: str = ".") -> None:
        base = self.root / where
        base.mkdir(parents=True, exist_ok=True)
        (base / "dvc.yaml").write_text(dvc_yaml)
        (base / "dvc.lock").write_text(_dump({"schema": "2.0", "stages": stages}))
