"""Where stages run: --executor, else executor.* of the local/global config, never the committed one."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipever.config import Config
from pipever.errors import ExecutorError
from pipever.executor.settings import resolve


def config(tmp_path: Path, **levels: dict[str, object]) -> Config:
    cfg = Config({"global": tmp_path / "g.yaml", "repo": tmp_path / "r.yaml", "local": tmp_path / "l.yaml"})
    cfg.levels = {level: {"executor": dict(values)} for level, values in levels.items()}
    return cfg


def test_local_by_default(tmp_path: Path) -> None:
    s = resolve(config(tmp_path))
    assert s.is_local and s.retries == 2 and not s.forward_credentials and s.warnings == ()


def test_command_line_wins_over_local_config(tmp_path: Path) -> None:
    cfg = config(tmp_path, local={"address": "tcp://a:8786"}, **{"global": {"address": "tcp://b:8786"}})
    assert resolve(cfg).address == "tcp://a:8786"
    assert resolve(cfg, "tcp://c:1").address == "tcp://c:1"
    assert resolve(config(tmp_path, **{"global": {"address": "tcp://b:8786"}})).address == "tcp://b:8786"


def test_committed_settings_are_ignored_with_a_warning(tmp_path: Path) -> None:
    s = resolve(config(tmp_path, repo={"address": "tcp://evil:8786", "forward_credentials": True}))
    assert s.is_local and not s.forward_credentials
    assert s.warnings == ("executor.address, executor.forward_credentials in the committed .pv/config.yaml "
                          "ignored; set them with 'pv config --local' (or --global) if you trust them",)


def test_credentials_are_forwarded_only_over_tls(tmp_path: Path) -> None:
    assert resolve(config(tmp_path, local={"address": "tls://h:8786", "forward_credentials": True})).forward_credentials
    s = resolve(config(tmp_path, local={"address": "tcp://h:8786", "forward_credentials": True}))
    assert not s.forward_credentials
    assert "not a tls:// scheduler" in s.warnings[0]


def test_retries_from_config(tmp_path: Path) -> None:
    assert resolve(config(tmp_path, local={"retries": 5})).retries == 5
    with pytest.raises(ExecutorError, match="executor.retries must be a number of 0 or more, got '-1'"):
        resolve(config(tmp_path, local={"retries": -1}))


def test_an_address_that_is_no_scheduler_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ExecutorError) as err:
        resolve(config(tmp_path), "myhost:8786")
    assert err.value.message == "executor 'myhost:8786' is not a Dask scheduler address"
    assert err.value.hint == "use 'local' or an address like tcp://host:8786 or tls://host:8786"
    assert err.value.address == "myhost:8786"
