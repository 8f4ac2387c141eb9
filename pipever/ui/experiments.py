"""``/api/experiments``: the ``pv exp show`` table (same rows, columns and cell text), with each
row's identity for selecting and comparing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipever.pipeline.params import flatten
from pipever.repo import Repo

if TYPE_CHECKING:
    from pipever.commands.experiments.exp_show import Memo


def experiments(repo: Repo, memo: Memo | None = None) -> dict[str, Any]:
    """``memo``: the server's per-commit values (commits never change), so a table of hundreds of
    experiments reads each commit once per server."""
    from pipever.compare.exptable import exp_table
    from pipever.commands.experiments.exp_show import exp_show

    res = exp_show(repo, memo=memo)
    headers, cells = exp_table(res.rows, precision=5)
    n_params = len({(f, k) for r in res.rows for f, v in r.params.items() for k in flatten(v)})
    kinds = ["info"] * 4 + ["param"] * n_params + ["metric"] * (len(headers) - 4 - n_params)
    rows = [{"name": r.name, "type": r.kind.value, "rev": r.rev, "baseline": r.baseline,
             "cells": row, "errors": list(r.errors)} for r, row in zip(res.rows, cells)]
    return {"columns": [{"title": h, "kind": k} for h, k in zip(headers, kinds)], "rows": rows}
