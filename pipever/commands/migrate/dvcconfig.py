"""``.dvc/config`` and ``.dvc/config.local``, and what they become in pv's config.

DVC writes them with configobj: INI sections (``[core]``, ``['remote "name"']``), ``key = value``
lines, values optionally quoted, an unquoted value with commas is a list, ``#`` starts a comment.
``parse`` reads that dialect (untrusted text: never evaluated); ``translate`` maps sections and
option names to pv's (``endpointurl`` -> ``endpoint_url``, ...), rebases relative paths from
``.dvc/`` to the repository root, and sends what pv honours only from local config (credentials,
key files, TLS/host-key settings, a cache outside the work tree) to ``.pv/config.local.yaml``.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from pipever.config import UNSAFE_REMOTE_OPTIONS, is_secret
from pipever.errors import ConfigError
from pipever.remote import options as remote_options, url as remote_url

_SECTION = re.compile(r"^\[\s*(?P<q>['\"]?)(?P<name>.*?)(?P=q)\s*\]\s*(#.*)?$")
_REMOTE = re.compile(r'^remote\s+"(?P<name>[^"]+)"$')

# DVC option name -> pv option name, for every remote type (None: dropped, with a note)
OPTION_NAMES: dict[str, str | None] = {
    "endpointurl": "endpoint_url",
    "timeout": "connect_timeout",
    "credentialpath": "credentialpath",
    "checksum_jobs": None,  # pv hashes with BLAKE3 in its own workers
    "no_traverse": None,
    "verify": None,  # pv always verifies what it downloads
    "ask_password": None,
    "ask_passphrase": None,
    "worktree": None,
    "cache_regions": None,
    "configpath": None,
}
CORE_OPTIONS = {"remote": "core.remote", "autostage": "core.autostage", "hardlink_lock": "core.hardlink_lock",
                "check_update": "core.check_update", "interactive": "core.interactive"}
CACHE_OPTIONS = {"type": "cache.type", "shared": "cache.shared", "protected": "cache.protected"}
LOCAL_ONLY = {"keyfile", "credentialpath", "key_path", "cert_path", "custom_auth_header"}


def _unquote(value: str) -> Any:
    v = value.strip()
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
        return v[1:-1]
    if "#" in v:  # an inline comment (outside quotes)
        v = v.split("#", 1)[0].strip()
        if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
            return v[1:-1]
    if "," in v:
        return [part.strip().strip("'\"") for part in v.split(",") if part.strip()]
    return v


def parse(text: str, file: str) -> dict[str, dict[str, Any]]:
    """Sections of a DVC config file: ``{"core": {...}, 'remote "name"': {...}}``."""
    sections: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] | None = None
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        m = _SECTION.match(stripped)
        if m and not stripped.startswith("[["):
            current = sections.setdefault(m.group("name").strip(), {})
            continue
        if "=" not in stripped or current is None:
            raise ConfigError(f"'{file}' line {n} is not a DVC config line: {stripped[:60]!r}",
                              hint="fix it (DVC reads the same file) and rerun")
        key, value = stripped.split("=", 1)
        current[key.strip().lower()] = _unquote(value)
    return sections


def merged(files: list[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    """``config`` then ``config.local`` (later files win, option by option)."""
    out: dict[str, dict[str, Any]] = {}
    for name, text in files:
        for section, values in parse(text, name).items():
            out.setdefault(section, {}).update(values)
    return out


def remotes(conf: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found = {}
    for section, values in conf.items():
        m = _REMOTE.match(section)
        if m:
            found[m.group("name")] = values
    return found


@dataclass
class Translated:
    repo: dict[str, Any] = field(default_factory=dict)  # dotted key -> value, for .pv/config.yaml
    local: dict[str, Any] = field(default_factory=dict)  # dotted key -> value, for .pv/config.local.yaml
    notes: list[str] = field(default_factory=list)  # what was not carried over, and why


def rebase_path(path: str) -> str:
    """A local path DVC resolves from ``.dvc/``, made relative to the repository root (absolute
    paths and ``~`` stay as they are)."""
    expanded = os.path.expanduser(path)
    if os.path.isabs(expanded):
        return expanded
    return posixpath.normpath(posixpath.join(".dvc", expanded.replace(os.sep, "/")))


def _inside(path: str, root: str) -> bool:
    full = os.path.normpath(os.path.join(root, path))
    return full == root or full.startswith(root.rstrip(os.sep) + os.sep)


def resolve_url(name: str, remote_confs: dict[str, dict[str, Any]], seen: tuple[str, ...] = ()) -> str:
    """A remote's URL with DVC's ``remote://other/sub/path`` resolved."""
    url = remote_confs.get(name, {}).get("url")
    if not isinstance(url, str) or not url:
        raise ConfigError(f"DVC remote '{name}' has no url", hint="fix .dvc/config, or migrate with another --remote")
    if url.startswith("remote://"):
        rest = url[len("remote://"):]
        base, _, sub = rest.partition("/")
        if base in seen or base not in remote_confs:
            raise ConfigError(f"DVC remote '{name}' refers to '{url}', which cannot be resolved",
                              hint="fix .dvc/config")
        return resolve_url(base, remote_confs, (*seen, name)).rstrip("/") + ("/" + sub if sub else "")
    return url


def pv_url(url: str) -> str:
    """A DVC remote URL as pv's config stores it (relative local paths rebased to the root)."""
    if remote_url.is_local(url) and not url.lower().startswith("file://"):
        return rebase_path(url)
    return url


def translate(conf: dict[str, dict[str, Any]], *, root: str,
              committed: dict[str, dict[str, Any]] | None = None, local: dict[str, dict[str, Any]] | None = None,
              ) -> Translated:
    """pv's config for a merged DVC config of the repository at ``root``. Options that weaken
    security or could run programs are carried over only when the user's own ``config.local``
    set them (``local``: what that file set), never from the committed ``.dvc/config``
    (``committed``), which anyone's commit can change."""
    out = Translated()
    for key, target in CORE_OPTIONS.items():
        if key in conf.get("core", {}):
            value = conf["core"][key]
            out.repo[target] = _bool(value) if target != "core.remote" else value
    for key in sorted(set(conf.get("core", {})) - set(CORE_OPTIONS)):
        out.notes.append(f"core.{key} is not carried over (pv has no such option)")
    cache = conf.get("cache", {})
    for key, target in CACHE_OPTIONS.items():
        if key in cache:
            value = cache[key]
            out.repo[target] = _bool(value) if key == "protected" else (",".join(value) if isinstance(value, list) else value)
    if "dir" in cache:
        path = rebase_path(str(cache["dir"]))
        default = posixpath.normpath(path) == ".dvc/cache"
        if not default:
            # pv resolves a relative cache.dir from .pv/, DVC from .dvc/: siblings, same text
            pv_dir = path if os.path.isabs(path) else posixpath.relpath(path, ".pv")
            if _inside(path, root):
                out.repo["cache.dir"] = pv_dir
            else:
                out.local["cache.dir"] = pv_dir
    for key in sorted(set(cache) - set(CACHE_OPTIONS) - {"dir"}):
        out.notes.append(f"cache.{key} is not carried over (pv has no such option)")
    confs = remotes(conf)
    for name in sorted(confs):
        from_commit = set(remotes(committed or {}).get(name, {})) - set(remotes(local or {}).get(name, {}))
        _remote(name, confs, out, root=root, from_commit=from_commit)
    default_remote = out.repo.get("core.remote")
    if default_remote is not None and f"remote.{default_remote}.url" not in {**out.repo, **out.local}:
        del out.repo["core.remote"]
        out.notes.append(f"core.remote is not carried over (remote '{default_remote}' was not)")
    for section in sorted(conf):
        if section not in ("core", "cache") and not _REMOTE.match(section):
            out.notes.append(f"section [{section}] is not carried over (pv has no such settings)")
    return out


def _remote(name: str, confs: dict[str, dict[str, Any]], out: Translated, *, root: str,
            from_commit: set[str]) -> None:
    try:
        url = pv_url(resolve_url(name, confs))
        backend = remote_url.FILE if remote_url.is_local(url) else remote_url.parse(url).backend
    except Exception as exc:  # noqa: BLE001 - a remote pv cannot use is left out, said why
        out.notes.append(f"remote '{name}' is not carried over: {getattr(exc, 'message', exc)}")
        return
    safe = remote_options.SAFE.get(backend, set()) | remote_options.OWN
    key = f"remote.{name}."
    (out.local if remote_url.mask_url(url) != url else out.repo)[key + "url"] = url
    for option, value in confs[name].items():
        if option == "url":
            continue
        mapped = OPTION_NAMES.get(option, option)
        if mapped is None:
            out.notes.append(f"remote '{name}': '{option}' is not carried over (pv does not need it)")
            continue
        if mapped.lower() in UNSAFE_REMOTE_OPTIONS and option in from_commit:
            out.notes.append(f"remote '{name}': '{option}' from the committed .dvc/config is not carried over "
                             f"(it weakens security); if you trust it: 'pv remote modify --local {name} {mapped} VALUE'")
            continue
        if isinstance(value, str) and mapped in ("keyfile", "credentialpath", "cert_path", "key_path") \
                and not os.path.isabs(os.path.expanduser(value)):
            value = os.path.normpath(os.path.join(root, rebase_path(value)))  # local config: absolute
        local = (is_secret(mapped) or mapped.lower() in UNSAFE_REMOTE_OPTIONS or mapped in LOCAL_ONLY
                 or mapped.lower() not in safe)
        (out.local if local else out.repo)[key + mapped] = _typed(value)


def _bool(value: Any) -> Any:
    if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
        return value.lower() in ("true", "yes", "1")
    return value


def _typed(value: Any) -> Any:
    if isinstance(value, str):
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        if re.fullmatch(r"-?\d+", value):
            return int(value)
    return value
