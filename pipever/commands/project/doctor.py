"""``pv doctor``: what this installation and repository are made of, for bug reports and for
"why is it slow here": versions, remote backends (installed or which extra to install), the link
types that work between the cache and the workspace, whether pyfastcdc's compiled extension is
there, and the formats of the cache and of the configured remotes.

Nothing is contacted over the network: a remote's format is read only when it is a local folder.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import sys
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from pipever import __version__
from pipever.context import RepoContext

PACKAGES = ("gitpython", "pyyaml", "fsspec", "networkx", "typer", "rich", "blake3", "pyfastcdc")


@dataclass(frozen=True)
class BackendInfo:
    scheme: str
    module: str
    installed: bool
    version: str | None
    install: str | None  # how to install it when missing


@dataclass(frozen=True)
class RemoteInfo:
    name: str
    scheme: str
    installed: bool
    layout: str | None  # the 'layout' option when set
    format: str  # what is known of its format without contacting it


@dataclass(frozen=True)
class DoctorReport:
    pipever: str
    python: str
    platform: str
    git: str | None
    packages: dict[str, str | None]
    backends: list[BackendInfo]
    fastcdc: str  # 'compiled', 'pure python' or 'not installed'
    repo: str | None = None
    cache_dir: str | None = None
    cache_format: str | None = None
    cache_objects: int | None = None
    link_types: dict[str, bool] = field(default_factory=dict)  # kind -> works between cache and workspace
    remotes: list[RemoteInfo] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _git_version() -> str | None:
    import subprocess

    try:
        out = subprocess.run(["git", "--version"], capture_output=True, text=True, check=False, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip().removeprefix("git version ") or None


def fastcdc_kind() -> str:
    """'compiled' when pyfastcdc's Cython extension is what it uses, 'pure python' when it fell
    back to its slow implementation, 'not installed' otherwise."""
    import warnings

    if importlib.util.find_spec("pyfastcdc") is None:
        return "not installed"
    with warnings.catch_warnings():  # its fallback warns on import: doctor says it instead
        warnings.simplefilter("ignore")
        try:
            from pyfastcdc import FastCDC
        except ImportError:
            return "not installed"
    module = getattr(FastCDC, "__module__", "") or ""
    return "compiled" if module.startswith("pyfastcdc.cy") else "pure python"


def _backends() -> list[BackendInfo]:
    from pipever.remote.url import SCHEMES

    seen: dict[str, BackendInfo] = {}
    for scheme, backend in SCHEMES.items():
        if backend.module is None or backend.protocol in seen:
            continue
        installed = importlib.util.find_spec(backend.module) is not None
        how = None
        if not installed:
            how = f"pip install 'pipever[{backend.extra}]'" if backend.extra else f"pip install {backend.package}"
        version = _version(backend.package or backend.module) if installed else None
        seen[backend.protocol] = BackendInfo(scheme, backend.module, installed, version, how)
    return list(seen.values())


def link_types(cache_dir: Path, workspace: Path) -> dict[str, bool]:
    """Try each link kind from a scratch file in the cache to a scratch file in the workspace."""
    from pipever.fsutil import copy_file, reflink

    makers = {"reflink": reflink, "hardlink": os.link, "symlink": os.symlink, "copy": copy_file}
    out: dict[str, bool] = {}
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".doctor-") as src_dir, \
            tempfile.TemporaryDirectory(dir=workspace, prefix=".pv-doctor-") as dst_dir:
        src = Path(src_dir) / "object"
        src.write_bytes(b"pv doctor")
        for kind, make in makers.items():
            dst = Path(dst_dir) / kind
            try:
                make(src, dst)
                out[kind] = dst.read_bytes() == b"pv doctor"
            except OSError:
                out[kind] = False
    return out


def _count_objects(cache_dir: Path) -> int:
    base = cache_dir / "blake3"
    if not base.is_dir():
        return 0
    return sum(len(files) for _d, _s, files in os.walk(base))


def _remote_format(url: str, root: Path) -> str:
    """A local remote's format, read from its ``pv-remote.yaml`` (or its loose objects); other
    remotes are not contacted."""
    from pipever import yamlio
    from pipever.remote import url as remote_url

    if not remote_url.is_local(url):
        return "not checked (doctor contacts no remote)"
    path = Path(os.path.expanduser(url.removeprefix("file://")))
    if not path.is_absolute():
        path = root / path
    if not path.is_dir():
        return "empty (the folder does not exist yet)"
    meta = path / "pv-remote.yaml"
    if meta.is_file():
        data = yamlio.load(meta.read_bytes(), str(meta))
        if isinstance(data, dict):
            return "pv-remote.yaml: " + ", ".join(f"{k}={v}" for k, v in sorted(data.items()))
    if (path / "blake3").is_dir():
        return "loose objects, blake3/xx/<62 hex>"
    return "empty"


def _remotes(repo: RepoContext) -> list[RemoteInfo]:
    from pipever.remote import url as remote_url

    out = []
    for name in repo.config.remote_names():
        opts = repo.config.remote_options(name)
        url = str(opts.get("url", ""))
        try:
            spec = remote_url.parse(url, base_dir=str(repo.root))
            scheme, module = spec.scheme, spec.backend.module
        except Exception:  # noqa: BLE001 - an invalid URL is reported when the remote is used
            scheme, module = "invalid", None
        installed = module is None or importlib.util.find_spec(module) is not None
        layout = str(opts["layout"]) if "layout" in opts else None
        out.append(RemoteInfo(name, scheme, installed, layout, _remote_format(url, repo.root)))
    return out


def doctor(repo: RepoContext | None) -> DoctorReport:
    """Describe the installation, and ``repo`` when run inside one."""
    packages = {p: _version(p) for p in PACKAGES}
    report = DoctorReport(
        pipever=__version__, python=sys.version.split()[0], platform=platform.platform(), git=_git_version(),
        packages=packages, backends=_backends(), fastcdc=fastcdc_kind(),
    )
    if repo is None:
        return report
    cache = repo.cache_dir
    return replace(
        report, repo=str(repo.root), cache_dir=str(cache), cache_format="loose objects, blake3/xx/<62 hex> (manifests .dir)",
        cache_objects=_count_objects(cache), link_types=link_types(cache, repo.root), remotes=_remotes(repo),
    )
