"""Metric gates for promotion: ``FILE:KEY OP VALUE`` checks, parsed and evaluated (pure).

``KEY`` is a dotted path into the metrics file (``eval.acc``; a flat key containing dots is found
too). ``OP`` is one of ``>=``, ``>``, ``<=``, ``<``, ``==``. Numbers compare as numbers; ``==``
also compares strings and booleans (``status==ok``).
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pipever import yamlio
from pipever.errors import PvError, RegistryError

OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq,
}
_CHECK = re.compile(r"\s*(?P<file>[^:]+?)\s*:\s*(?P<key>[^<>=\s][^<>=]*?)\s*(?P<op>>=|<=|==|>|<)\s*(?P<value>[^\s<>=].*?)\s*")
_MISSING = object()


@dataclass(frozen=True)
class Check:
    file: str
    key: str
    op: str
    value: str

    def __str__(self) -> str:
        return f"{self.file}:{self.key}{self.op}{self.value}"


@dataclass(frozen=True)
class CheckResult:
    check: Check
    passed: bool
    actual: Any  # the value found (None when missing)
    problem: str | None = None  # why it failed, beyond the comparison itself

    def describe(self) -> str:
        if self.problem:
            return f"'{self.check}' failed: {self.problem}"
        shown = json.dumps(self.actual) if not isinstance(self.actual, str) else self.actual
        verdict = "passed" if self.passed else "failed"
        return f"'{self.check}' {verdict} ({self.check.key} = {shown})"


def parse_check(text: str, *, source: str = "--require") -> Check:
    m = _CHECK.fullmatch(text)
    if m is None:
        raise RegistryError(
            f"invalid metric check '{text}' in {source}",
            hint="write FILE:KEY OP VALUE with OP one of >=, >, <=, <, ==, e.g. 'metrics.json:acc>=0.9'",
        )
    return Check(m["file"], m["key"], m["op"], m["value"])


def parse_metrics(data: bytes, file: str) -> Any:
    """Parse a metrics file's bytes by its extension (JSON, YAML, TOML)."""
    try:
        if file.endswith(".json"):
            return json.loads(data.decode("utf-8"))
        if file.endswith(".toml"):
            import tomllib

            return tomllib.loads(data.decode("utf-8"))
        return yamlio.load(data, file)
    except (ValueError, PvError) as exc:  # JSONDecodeError, TOMLDecodeError, UnicodeDecodeError
        msg = exc.message if isinstance(exc, PvError) else str(exc)
        raise RegistryError(f"cannot read metrics file '{file}': {msg}", hint="fix the file at that commit") from exc


def lookup(data: Any, key: str) -> Any:
    """The value at dotted ``key`` (or at the flat key itself); ``_MISSING`` when absent."""
    if isinstance(data, Mapping) and key in data:
        return data[key]
    head, dot, rest = key.partition(".")
    while dot:
        if isinstance(data, Mapping) and head in data:
            found = lookup(data[head], rest)
            if found is not _MISSING:
                return found
        more, dot, rest = rest.partition(".")
        head = f"{head}.{more}"
    return _MISSING


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def evaluate(check: Check, metrics: Any) -> CheckResult:
    actual = lookup(metrics, check.key)
    if actual is _MISSING:
        return CheckResult(check, False, None, f"'{check.key}' is not in '{check.file}'")
    have, want = _number(actual), _number(check.value)
    if have is not None and want is not None:
        if math.isnan(have):
            return CheckResult(check, False, actual, f"{check.key} is NaN")
        return CheckResult(check, OPS[check.op](have, want), actual)
    if check.op == "==":
        return CheckResult(check, str(actual).lower() == check.value.lower() if isinstance(actual, bool)
                           else str(actual) == check.value, actual)
    if have is None:
        return CheckResult(check, False, actual, f"{check.key} = {json.dumps(actual)} is not a number")
    return CheckResult(check, False, actual, f"'{check.value}' is not a number")
