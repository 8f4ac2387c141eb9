"""Configuration: three YAML files merged with precedence local > repo > global.

- global: ``$XDG_CONFIG_HOME/pipever/config.yaml`` (``pv config --global``)
- repo:   ``.pv/config.yaml`` (committed: comes from anyone's commit)
- local:  ``.pv/config.local.yaml`` (git-ignored: credentials, per-machine settings)

Because the repo file is untrusted, remote options that can run programs or weaken security are
honoured only from the local or global file (``UNSAFE_REMOTE_OPTIONS``), and the local file only
when Git does not track it (a ``git add -f`` would make it part of the commit).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipever import yamlio
from pipever.errors import ConfigError
from pipever.fsutil import atomic_write_text

LEVELS = ("global", "repo", "local")
SECTIONS: dict[str, set[str] | None] = {
    "core": {"remote", "autostage", "no_scm", "hardlink_lock", "check_update", "interactive", "quiet"},
    "cache": {"type", "dir", "protected", "shared"},
    "state": {"enabled"},
    "hooks": {"pre_commit_warn_only"},
    "executor": {"address", "retries", "forward_credentials"},  # honoured from local/global only
    "remote": None,  # remote.NAME.OPTION: free-form options passed to fsspec
}
BOOLEAN_OPTIONS = {
    "core.autostage", "core.no_scm", "core.hardlink_lock", "core.check_update", "core.interactive", "core.quiet",
    "cache.protected", "state.enabled", "hooks.pre_commit_warn_only",
    "executor.forward_credentials",
}
# remote options honoured only from local/global config (never from a commit)
UNSAFE_REMOTE_OPTIONS = {
    "proxy_command", "proxycommand", "known_hosts", "known_hosts_file", "server_host_key_algs",
    "host_key_check", "disable_host_key_check", "strict_host_key_checking", "client_keys",
    "use_ssl", "verify", "ssl_verify", "client_kwargs", "config_kwargs", "anon_insecure",
}
SECRET_OPTIONS = {
    "secret_access_key", "secret", "password", "token", "session_token", "account_key",
    "sas_token", "credentials", "passphrase", "key_secret", "client_secret", "connection_string",
}


def global_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "pipever" / "config.yaml"


def is_secret(option: str) -> bool:
    o = option.lower()
    return o in SECRET_OPTIONS or o.endswith(("_secret", "password", "_token"))


def mask(option: str, value: Any) -> Any:
    """``value`` as it may be shown: secrets, and passwords inside URLs, masked."""
    if is_secret(option) and value not in (None, ""):
        return "******"
    if isinstance(value, str) and "://" in value and "@" in value:
        from pipever.remote.url import mask_url

        return mask_url(value)
    return value


@dataclass
class Config:
    files: dict[str, Path]
    levels: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, pv_dir: Path | None) -> Config:
        files = {"global": global_config_path()}
        if pv_dir is not None:
            files["repo"] = pv_dir / "config.yaml"
            files["local"] = pv_dir / "config.local.yaml"
        cfg = cls(files)
        repo_file = files.get("repo")
        if repo_file is not None and repo_file.is_symlink():  # committed: it may lead anywhere
            raise ConfigError(f"'{repo_file.parent.name}/{repo_file.name}' is a symlink (to '{os.readlink(repo_file)}')",
                              hint="the committed config must be a file of the repository: replace the link by the file")
        for level, path in files.items():
            cfg.levels[level] = _read(path)
        if cfg.levels.get("local") and _tracked_by_git(files["local"]):
            from pipever import notices

            rel = f"{files['local'].parent.name}/{files['local'].name}"
            notices.warn(f"'{rel}' is tracked by Git, so it may come from anyone's commit: ignored — "
                         f"run 'git rm --cached {rel}' to use it as your local config")
            cfg.levels["local"] = {}
        return cfg

    # -- reading --------------------------------------------------------------------------------
    @property
    def merged(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for level in LEVELS:
            _deep_merge(out, self.levels.get(level, {}))
        return out

    def get(self, key: str, default: Any = None, *, level: str | None = None) -> Any:
        node: Any = self.levels.get(level, {}) if level else self.merged
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return node

    def remote_names(self) -> list[str]:
        remotes = self.get("remote", {}) or {}
        return sorted(remotes)

    def remote_options(self, name: str) -> dict[str, Any]:
        """Options of remote ``name`` merged across levels; unsafe ones only from local/global."""
        out: dict[str, Any] = {}
        for level in LEVELS:
            opts = (self.levels.get(level, {}).get("remote") or {}).get(name)
            if not isinstance(opts, Mapping):
                continue
            for k, v in opts.items():
                if level == "repo" and str(k).lower() in UNSAFE_REMOTE_OPTIONS:
                    continue
                out[str(k)] = v
        return out

    # -- writing --------------------------------------------------------------------------------
    def set(self, level: str, key: str, value: Any) -> None:
        parts = _check_key(key)
        _check_value(key, value)
        data = copy.deepcopy(self.levels.get(level, {}))
        node = data
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
        self._write(level, data)

    def unset(self, level: str, key: str) -> None:
        parts = _check_key(key)
        data = copy.deepcopy(self.levels.get(level, {}))
        node = data
        chain = []
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                raise ConfigError(f"'{key}' is not set in the {level} config", hint="see 'pv config --list'")
            chain.append((node, part))
            node = node[part]
        if parts[-1] not in node:
            raise ConfigError(f"'{key}' is not set in the {level} config", hint="see 'pv config --list'")
        del node[parts[-1]]
        for parent, part in reversed(chain):  # drop emptied sections
            if not parent[part]:
                del parent[part]
        self._write(level, data)

    def _write(self, level: str, data: dict[str, Any]) -> None:
        path = self.files.get(level)
        if path is None:
            raise ConfigError(f"there is no {level} config outside a repository", hint="run it inside a pv repository or use --global")
        atomic_write_text(path, yamlio.dump(data) if data else "")
        self.levels[level] = data


def _tracked_by_git(path: Path) -> bool:
    """True when Git tracks ``path`` (asked only when the file exists: the local config is
    trusted with credentials and programs to run, so it must not come from a commit)."""
    from pipever.errors import GitError
    from pipever.git import Git

    try:
        return bool(Git(path.parent.parent).tracked([f"{path.parent.name}/{path.name}"]))
    except GitError:  # no Git here (``--no-scm``), or no git program: nothing can track it
        return False


def _check_key(key: str) -> list[str]:
    parts = key.split(".")
    if len(parts) < 2 or not all(parts):
        raise ConfigError(f"invalid config key '{key}'", hint="use SECTION.OPTION, e.g. 'core.autostage' or 'remote.NAME.url'")
    section = parts[0]
    if section not in SECTIONS:
        raise ConfigError(f"unknown config section '{section}'", hint="sections are " + ", ".join(sorted(SECTIONS)))
    allowed = SECTIONS[section]
    if allowed is not None and (len(parts) != 2 or parts[1] not in allowed):
        raise ConfigError(f"unknown config option '{key}'", hint=f"options of '{section}' are " + ", ".join(sorted(allowed)))
    if section == "remote" and len(parts) != 3:
        raise ConfigError(f"invalid remote option '{key}'", hint="use remote.NAME.OPTION")
    return parts


def _check_value(key: str, value: Any) -> None:
    """Refuse a value pv would misread later (``core.autostage 0`` read as on)."""
    if key in BOOLEAN_OPTIONS and not isinstance(value, bool):
        raise ConfigError(f"'{key}' must be true or false, got '{value}'", hint=f"e.g. 'pv config {key} false'")
    if key == "cache.type":
        from pipever.objects.checkout import parse_link_types

        parse_link_types(value)
    if key == "cache.shared" and value != "group":
        raise ConfigError(f"'cache.shared' must be 'group', got '{value}'", hint="'pv config cache.shared group', or 'pv config --unset cache.shared'")


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    data = yamlio.load(text, str(path))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"'{path}' must hold a mapping of sections", hint="fix or delete it")
    for section, body in data.items():
        if section not in SECTIONS:
            raise ConfigError(f"unknown config section '{section}' in '{path}'", hint="sections are " + ", ".join(sorted(SECTIONS)))
        if not isinstance(body, dict):
            raise ConfigError(f"config section '{section}' in '{path}' must be a mapping", hint="fix or delete it")
        allowed = SECTIONS[section]
        if allowed is not None:
            bad = sorted(set(body) - allowed)
            if bad:
                raise ConfigError(f"unknown option(s) {', '.join(bad)} in section '{section}' of '{path}'", hint="options are " + ", ".join(sorted(allowed)))
    return data


def _deep_merge(dst: dict[str, Any], src: Mapping[str, Any]) -> None:
    for k, v in src.items():
        if isinstance(v, Mapping) and isinstance(dst.get(k), dict):
            _deep_merge(dst[k], v)
        else:
            dst[k] = copy.deepcopy(v) if isinstance(v, (dict, list)) else v
