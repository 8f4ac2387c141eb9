"""Where stages run: ``--executor`` on the command line, else ``executor.*`` of the local or
global config. The committed ``.pv/config.yaml`` comes from anyone's commit: an address there
could send everyone's stages (and their data) to a stranger's cluster, so it is ignored, with a
warning."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipever.config import Config
from pipever.errors import ExecutorError
from pipever.executor import LOCAL

DEFAULT_RETRIES = 2
SCHEMES = ("tcp://", "tls://", "inproc://", "ucx://", "ws://", "wss://")


@dataclass(frozen=True)
class ExecutorSettings:
    address: str  # LOCAL or a Dask scheduler address
    retries: int = DEFAULT_RETRIES  # the scheduler's allowed-failures: times a task may lose its worker
    forward_credentials: bool = False
    warnings: tuple[str, ...] = field(default=())

    @property
    def is_local(self) -> bool:
        return self.address == LOCAL


def _trusted(config: Config, key: str) -> object:
    for level in ("local", "global"):
        section = config.levels.get(level, {}).get("executor") or {}
        if isinstance(section, dict) and key in section:
            return section[key]
    return None


def resolve(config: Config, cli_address: str | None = None) -> ExecutorSettings:
    """The settings of this run; ExecutorError for an address that is no scheduler address."""
    committed = config.levels.get("repo", {}).get("executor") or {}
    warnings = []
    if isinstance(committed, dict) and committed:
        keys = ", ".join(f"executor.{k}" for k in sorted(committed))
        warnings.append(f"{keys} in the committed .pv/config.yaml ignored; set them with "
                        f"'pv config --local' (or --global) if you trust them")
    address = cli_address or _trusted(config, "address") or LOCAL
    address = str(address).strip()
    if address != LOCAL and not address.startswith(SCHEMES):
        raise ExecutorError(f"executor '{address}' is not a Dask scheduler address", address=address,
                            hint="use 'local' or an address like tcp://host:8786 or tls://host:8786")
    retries_raw = _trusted(config, "retries")
    try:
        retries = DEFAULT_RETRIES if retries_raw is None else int(str(retries_raw))
        if retries < 0:
            raise ValueError
    except ValueError:
        raise ExecutorError(f"executor.retries must be a number of 0 or more, got '{retries_raw}'",
                            hint="e.g. 'pv config --local executor.retries 2'") from None
    forward = _trusted(config, "forward_credentials") is True
    if forward and not address.startswith("tls://"):
        warnings.append(f"executor.forward_credentials ignored: '{address}' is not a tls:// scheduler, "
                        "credentials are sent only over TLS")
        forward = False
    return ExecutorSettings(address, retries, forward, tuple(warnings))
