"""``pv config``: read and write the YAML config files."""

from __future__ import annotations

from typing import Any

from pipever import yamlio
from pipever.config import LEVELS, Config, is_secret, mask
from pipever.errors import ConfigError
from pipever.context import RepoContext


def _config(repo: RepoContext | None) -> Config:
    return repo.config if repo is not None else Config.load(None)


def _parse_value(value: str) -> Any:
    """'true' -> True, '3' -> 3, '[a, b]' -> list; anything else stays a string."""
    try:
        parsed = yamlio.load(value, "value")
    except Exception:  # noqa: BLE001 - not YAML: a plain string
        return value
    return parsed if isinstance(parsed, (bool, int, float, list)) else value


def config_get(repo: RepoContext | None, key: str, *, level: str | None) -> Any:
    cfg = _config(repo)
    val = cfg.get(key, level=level)
    if val is None:
        raise ConfigError(f"'{key}' is not set", hint="see 'pv config --list'")
    return mask(key.rsplit(".", 1)[-1], val)


def config_set(repo: RepoContext | None, key: str, value: str, *, level: str) -> None:
    if level == "repo":
        _check_committable(key, value)
    _config(repo).set(level, key, _parse_value(value))


def _check_committable(key: str, value: str) -> None:
    """Secrets never go to the committed file (as ``pv remote modify`` refuses them)."""
    parts = key.split(".")
    if len(parts) != 3 or parts[0] != "remote":
        return
    name, option = parts[1], parts[2]
    if is_secret(option):
        raise ConfigError(
            f"'{option}' is a secret and .pv/config.yaml is committed",
            hint=f"store it in the git-ignored local config: 'pv config --local {key} VALUE'",
        )
    if option == "url" and mask(option, value) != value:
        raise ConfigError(
            f"the URL of remote '{name}' contains a password, which would be committed",
            hint=f"set the URL without it and the password with 'pv config --local remote.{name}.password ...'",
        )


def config_unset(repo: RepoContext | None, key: str, *, level: str) -> None:
    _config(repo).unset(level, key)


def config_list(repo: RepoContext | None, *, level: str | None) -> list[tuple[str, str, Any]]:
    cfg = _config(repo)
    rows: list[tuple[str, str, Any]] = []
    for lvl in [level] if level else LEVELS:
        _flatten(cfg.levels.get(lvl, {}), "", lvl, rows)
    return rows


def _flatten(node: Any, prefix: str, level: str, rows: list[tuple[str, str, Any]]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            _flatten(v, f"{prefix}{k}.", level, rows)
    else:
        key = prefix[:-1]
        rows.append((level, key, mask(key.rsplit(".", 1)[-1], node)))
