"""What ``pv ui --allow-actions`` may change, each one command function with checked inputs:
queue an experiment with changed params (``pv exp run --queue -S ...``), promote a version to a
stage (``pv model promote``), roll a stage back (``pv model rollback``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pipever.errors import PvError
from pipever.repo import Repo


def _text(body: Mapping[str, Any], key: str, *, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise PvError(f"'{key}' is missing", hint="send it in the JSON body")
        return None
    if not isinstance(value, str) or len(value) > 500:
        raise PvError(f"'{key}' must be a string", hint="send it in the JSON body")
    return value


def queue(repo: Repo, body: Mapping[str, Any]) -> dict[str, Any]:
    from pipever.commands.experiments.exp_run import QueuedResult, exp_run

    params = body.get("params")
    if not isinstance(params, list) or not params or not all(isinstance(p, str) and p for p in params):
        raise PvError("'params' must be a non-empty list of FILE:KEY=VALUE", hint="e.g. [\"train.lr=0.1\"]")
    res = exp_run(repo, overrides=params, name=_text(body, "name", required=False), queue=True)
    assert isinstance(res, QueuedResult)
    return {"queued": res.spec.name, "message": f"Queued experiment '{res.spec.name}'; run it with 'pv queue start'"}


def promote(repo: Repo, body: Mapping[str, Any]) -> dict[str, Any]:
    from pipever.commands.registry.model import promote as do_promote

    name, version, stage = (_text(body, k) for k in ("name", "version", "stage"))
    assert name and version and stage
    res = do_promote(repo, name, version, stage)
    return {"tags": list(res.tags), "message": f"{name} {res.version} is now in '{stage}'"}


def rollback(repo: Repo, body: Mapping[str, Any]) -> dict[str, Any]:
    from pipever.commands.registry.model import rollback as do_rollback

    name, stage = _text(body, "name"), _text(body, "stage")
    assert name and stage
    res = do_rollback(repo, name, stage)
    return {"tags": list(res.tags), "message": f"Rolled back '{stage}' of {name} from {res.previous} to {res.version}"}


ACTIONS: dict[str, Callable[[Repo, Mapping[str, Any]], dict[str, Any]]] = {
    "queue": queue, "promote": promote, "rollback": rollback,
}
