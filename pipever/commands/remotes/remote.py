"""``pv remote add|modify|remove|rename|list|default``: remotes in the config files.

A remote is ``remote.NAME`` with ``url`` and options; the default is ``core.remote``. Writes go
to the committed ``.pv/config.yaml`` unless ``local`` (``.pv/config.local.yaml``, git-ignored);
a change of the committed file is staged in Git (``core.autostage``, as ``pv add`` stages pointers).
Secrets and options that could run programs or weaken security are refused for the committed
file (they would be published, or ignored when read back), with a hint to use ``--local``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from pipever.config import LEVELS, UNSAFE_REMOTE_OPTIONS, is_secret, mask
from pipever.errors import ConfigError, RemoteNotFoundError
from pipever.remote import options as remote_options, url as remote_url
from pipever.context import RepoContext

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class RemoteInfo:
    name: str
    url: str  # masked
    default: bool
    levels: tuple[str, ...]  # config files that define it
    options: dict[str, Any] = field(default_factory=dict)  # masked

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "url": self.url, "default": self.default, "levels": list(self.levels),
                "options": self.options}


def _level(local: bool) -> str:
    return "local" if local else "repo"


def _defined(repo: RepoContext, name: str) -> list[str]:
    return [lvl for lvl in LEVELS if name in (repo.config.levels.get(lvl, {}).get("remote") or {})]


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise ConfigError(f"invalid remote name '{name}'", hint="use letters, digits, '_', '-' and '.'")


def _parse_value(value: str) -> Any:
    low = value.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return value


def _store_url(repo: RepoContext, url: str) -> str:
    """A relative local path is stored relative to the repository root (portable across clones)."""
    if remote_url.is_local(url) and not url.lower().startswith("file://"):
        path = os.path.expanduser(url)
        if not os.path.isabs(path):
            return os.path.relpath(os.path.abspath(path), repo.root).replace(os.sep, "/")
    return url


def remote_add(repo: RepoContext, name: str, url: str, *, default: bool = False, local: bool = False,
               force: bool = False) -> None:
    _check_name(name)
    remote_url.parse(url, base_dir=str(repo.root))  # validate early
    if remote_url.mask_url(url) != url and not local:
        raise ConfigError(
            f"the URL of remote '{name}' contains a password, which would be committed",
            hint=f"add it without the password and run 'pv remote modify --local {name} password ...', or use --local",
        )
    existing = _defined(repo, name)
    if existing and not force:
        raise ConfigError(f"remote '{name}' already exists", hint=f"use --force to overwrite it, or 'pv remote modify {name} url URL'")
    level = _level(local)
    if default:
        _check_default_effective(repo, name, level)
    cfg = repo.config
    _drop(repo, level, name)
    cfg.set(level, f"remote.{name}.url", _store_url(repo, url))
    if default:
        cfg.set(level, "core.remote", name)
    _autostage(repo, [level])


def _autostage(repo: RepoContext, levels: list[str]) -> None:
    """``git add .pv/config.yaml`` after a change to it (never the local or global file)."""
    path = repo.config.files.get("repo")
    if "repo" in levels and path is not None and path.exists() and repo.autostage:
        repo.git.add([path.relative_to(repo.root).as_posix()])


def remote_rename(repo: RepoContext, old: str, new: str, *, local: bool | None = None) -> list[str]:
    """Rename remote ``old`` to ``new`` in the config files that define it (only the local one with
    ``local``), and the default remote where it named ``old``; the levels changed."""
    _check_name(new)
    levels = [lvl for lvl in _defined(repo, old) if lvl != "global" and (local is None or lvl == _level(local))]
    if not levels:
        raise RemoteNotFoundError(old)
    if _defined(repo, new):
        raise ConfigError(f"remote '{new}' already exists", hint=f"remove it first with 'pv remote remove {new}', or pick another name")
    for lvl in levels:
        section = dict((repo.config.levels[lvl].get("remote") or {}).get(old) or {})
        for option, value in section.items():
            repo.config.set(lvl, f"remote.{new}.{option}", value)
        _drop(repo, lvl, old)
    for lvl in ("repo", "local"):
        if repo.config.get("core.remote", level=lvl) == old:
            repo.config.set(lvl, "core.remote", new)
            levels.append(lvl)
    _autostage(repo, levels)
    return sorted(set(levels), key=("repo", "local").index)


def remote_modify(repo: RepoContext, name: str, option: str, value: str | None, *, unset: bool = False,
                  local: bool = False) -> None:
    if not _defined(repo, name):
        raise RemoteNotFoundError(name)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", option):
        raise ConfigError(f"invalid option name '{option}'", hint="e.g. endpoint_url, region, jobs")
    level = _level(local)
    key = f"remote.{name}.{option}"
    if unset:
        if option == "url":
            raise ConfigError(f"cannot unset the URL of remote '{name}'", hint=f"use 'pv remote remove {name}'")
        repo.config.unset(level, key)
        _autostage(repo, [level])
        return
    if value is None:
        raise ConfigError(f"no value given for '{option}'", hint="pass a VALUE, or --unset")
    if level == "repo":
        _check_committable(repo, name, option)
    stored: Any = _store_url(repo, value) if option == "url" else _parse_value(value)
    if option == "url":
        remote_url.parse(value, base_dir=str(repo.root))
    _check_number(option, value)
    repo.config.set(level, key, stored)
    _autostage(repo, [level])


# pv's own numeric remote options: the smallest value each takes, whether it is whole, an example
_NUMBERS = {"jobs": (1, True, "8"), "retries": (0, True, "5"), "connect_timeout": (0, False, "30"),
            "read_timeout": (0, False, "60")}


def _check_number(option: str, value: str) -> None:
    """Refuse a value pv would silently replace by its default (``jobs abc``, ``jobs 0``)."""
    if option not in _NUMBERS:
        return
    least, whole, example = _NUMBERS[option]
    try:
        number = int(value) if whole else float(value)
        ok = number >= least if whole else number > least
    except ValueError:
        ok = False
    if not ok:
        what = f"a whole number of at least {least}" if whole else "a number of seconds above 0"
        raise ConfigError(f"'{option}' must be {what}, got '{value}'", hint=f"e.g. 'pv remote modify NAME {option} {example}'")


def _check_committable(repo: RepoContext, name: str, option: str) -> None:
    low = option.lower()
    if is_secret(low):
        raise ConfigError(
            f"'{option}' is a secret and .pv/config.yaml is committed",
            hint=f"store it in the git-ignored local config: 'pv remote modify --local {name} {option} VALUE'",
        )
    if low in UNSAFE_REMOTE_OPTIONS or low in ("keyfile", "credentialpath"):
        raise ConfigError(
            f"'{option}' is honoured only from the local or global config (a committed value could "
            "run programs or weaken security for whoever clones the repository)",
            hint=f"run 'pv remote modify --local {name} {option} VALUE'",
        )
    spec = _spec(repo, name)
    if spec is not None and low not in remote_options.SAFE.get(spec.backend, set()) | remote_options.OWN:
        raise ConfigError(
            f"'{option}' is not an option pipever honours from the committed config for a "
            f"{spec.backend.protocol} remote",
            hint=f"set it in the local config: 'pv remote modify --local {name} {option} VALUE'",
        )


def _spec(repo: RepoContext, name: str) -> remote_url.RemoteURL | None:
    url = repo.config.get(f"remote.{name}.url")
    try:
        return remote_url.parse(str(url), base_dir=str(repo.root)) if url else None
    except Exception:  # noqa: BLE001 - an invalid URL is reported when the remote is used
        return None


def remote_remove(repo: RepoContext, name: str, *, local: bool | None = None) -> list[str]:
    """Remove ``name`` from the given level (both repo and local when None); returns the levels."""
    levels = [lvl for lvl in _defined(repo, name) if lvl != "global" and (local is None or lvl == _level(local))]
    if not levels:
        raise RemoteNotFoundError(name)
    for lvl in levels:
        _drop(repo, lvl, name)
    gone = not _defined(repo, name)
    for lvl in ("repo", "local"):  # a default naming the removed remote, in whichever file set it
        if (lvl in levels or gone) and repo.config.get("core.remote", level=lvl) == name:
            repo.config.unset(lvl, "core.remote")
    _autostage(repo, ["repo"])
    return levels


def _drop(repo: RepoContext, level: str, name: str) -> None:
    """Remove remote ``name`` from one config file (option by option: emptied sections go)."""
    section = (repo.config.levels.get(level, {}).get("remote") or {}).get(name)
    for option in list(section or {}):
        repo.config.unset(level, f"remote.{name}.{option}")


def remote_list(repo: RepoContext) -> list[RemoteInfo]:
    default = repo.config.get("core.remote")
    out = []
    for name in repo.config.remote_names():
        opts = repo.config.get(f"remote.{name}") or {}
        url = str(opts.get("url", ""))
        shown = {k: mask(k, v) for k, v in sorted(opts.items()) if k != "url"}
        out.append(RemoteInfo(name, remote_url.mask_url(url), name == default, tuple(_defined(repo, name)), shown))
    return out


def remote_default(repo: RepoContext, name: str | None = None, *, unset: bool = False, local: bool = False) -> str | None:
    """Set (``name``), clear (``unset``) or read the default remote."""
    level = _level(local)
    if unset:
        if repo.config.get("core.remote", level=level) is None:
            raise ConfigError(f"no default remote is set in the {level} config", hint="see 'pv remote list'")
        repo.config.unset(level, "core.remote")
        _autostage(repo, [level])
        return None
    if name is None:
        value = repo.config.get("core.remote")
        return str(value) if value else None
    if not _defined(repo, name):
        raise RemoteNotFoundError(name)
    _check_default_effective(repo, name, level)
    repo.config.set(level, "core.remote", name)
    _autostage(repo, [level])
    return name


def _check_default_effective(repo: RepoContext, name: str, level: str) -> None:
    """Refuse to set a committed default that the local config's default would override."""
    if level == "local":
        return
    current = repo.config.get("core.remote", level="local")
    if current and current != name:
        raise ConfigError(
            f"the local config sets the default remote to '{current}', which takes precedence",
            hint=f"run 'pv remote default --local {name}', or clear it with 'pv remote default --local --unset'",
        )
