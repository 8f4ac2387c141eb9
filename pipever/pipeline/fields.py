"""Validation of the fields of ``pv.yaml`` (after ``${...}`` are resolved) into model values.

Every problem is a SchemaError naming ``file:line`` of the offending node. Paths are untrusted:
they are joined with ``wdir`` (or the pv.yaml directory), normalized, and must stay in the repo.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from typing import Any, NoReturn

from pipever.errors import PathOutsideRepoError, SchemaError
from pipever.paths import check_relpath, join
from pipever.pipeline.marked import MDict, MList, line_in
from pipever.pipeline.params import is_params_file
from pipever.pipeline.stage import DEFAULT_PARAMS_FILE, Artifact, Out, OutKind, ParamDep, PlotDef, PlotProps

OUT_FLAGS = frozenset({"cache", "persist", "push", "remote", "desc", "type", "labels", "meta", "checkpoint"})
PLOT_PROPS = frozenset({"template", "x", "y", "x_label", "y_label", "title", "header"})
ARTIFACT_KEYS = frozenset({"path", "type", "desc", "labels", "meta", "gates"})
_BOOL_FLAGS = ("cache", "persist", "push", "checkpoint", "header")
_STR_FLAGS = ("remote", "desc", "type", "template", "x_label", "y_label", "title")
_ARTIFACT_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9_-]*[A-Za-z0-9])?")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def fail_at(file: str, problem: str, container: Any = None, key: Any = None) -> NoReturn:
    raise SchemaError(file, problem, line=line_in(container, key) if container is not None else None)


def plain(value: Any) -> Any:
    """MDict/MList (deep) to plain dict/list, for the model objects."""
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def check_keys(file: str, where: str, mapping: Mapping[Any, Any], allowed: frozenset[str]) -> None:
    for key in mapping:
        if key not in allowed:
            fail_at(file, f"{where}: unknown key '{key}' (allowed: {', '.join(sorted(allowed))})", mapping, key)


def expect(file: str, where: str, container: Any, key: Any, types: type | tuple[type, ...], what: str) -> Any:
    value = container[key]
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
        fail_at(file, f"{where}: '{key}' must be {what}, got {_kind(value)}", container, key)
    return value


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "a mapping", MDict: "a mapping", list: "a list", MList: "a list", bool: "a boolean",
            str: "a string", int: "an integer", float: "a number"}.get(type(value), type(value).__name__)


def norm_path(raw: Any, *, base: str, file: str, where: str, container: Any, key: Any, allow_root: bool = False) -> str:
    """``base``-relative untrusted path -> checked repo-relative path."""
    if not isinstance(raw, str) or not raw:
        fail_at(file, f"{where}: a path must be a non-empty string, got {_kind(raw)}", container, key)
    if _URL.match(raw):
        fail_at(file, f"{where}: '{raw}' is a URL; only paths inside the repository are supported", container, key)
    if raw.startswith(("/", "~")) or (len(raw) >= 2 and raw[1] == ":"):
        fail_at(file, f"{where}: path '{raw}' is absolute; use a path relative to the repository", container, key)
    joined = posixpath.normpath(join(base, raw)) if "\\" not in raw else raw
    try:
        return check_relpath(joined, allow_root=allow_root)
    except PathOutsideRepoError as exc:
        shown = exc.message.replace(f"'{joined}'", f"'{raw}'", 1)
        fail_at(file, f"{where}: {shown}", container, key)


def is_url(raw: object) -> bool:
    """Whether a dep/out is a URL (``https://``, ``s3://``, ...) rather than a path."""
    return isinstance(raw, str) and bool(_URL.match(raw))


def url_list(value: Any) -> tuple[str, ...]:
    """The URLs of a ``deps`` list (SPEC §8.1: a dep may be a URL); ``path_list`` with
    ``urls=True`` takes the rest."""
    return tuple(dict.fromkeys(v for v in value if is_url(v))) if isinstance(value, list) else ()


def path_list(value: Any, *, base: str, file: str, where: str, container: Any, key: Any,
              urls: bool = False) -> tuple[str, ...]:
    """A list of path strings (deps, top-level params/metrics files), deduplicated in order;
    with ``urls``, URL entries are left out (they are not paths)."""
    if not isinstance(value, list):
        fail_at(file, f"{where}: '{key}' must be a list of paths, got {_kind(value)}", container, key)
    out = [norm_path(p, base=base, file=file, where=where, container=value, key=i) for i, p in enumerate(value)
           if not (urls and is_url(p))]
    return tuple(dict.fromkeys(out))


def _flags(file: str, where: str, flags: Mapping[Any, Any], allowed: frozenset[str]) -> None:
    check_keys(file, where, flags, allowed)
    for name in _BOOL_FLAGS:
        if name in flags:
            expect(file, where, flags, name, bool, "true or false")
    for name in _STR_FLAGS:
        if name in flags:
            expect(file, where, flags, name, str, "a string")
    if "labels" in flags:
        labels = expect(file, where, flags, "labels", list, "a list of strings")
        if not all(isinstance(x, str) for x in labels):
            fail_at(file, f"{where}: 'labels' must be a list of strings", flags, "labels")


def parse_outs(
    value: Any, kind: OutKind, *, wdir: str, file: str, where: str, container: Any, key: str
) -> tuple[Out, ...]:
    """``outs``/``metrics``/``plots``: strings, or one-key mappings ``{path: {flags}}``."""
    if not isinstance(value, list):
        fail_at(file, f"{where}: '{key}' must be a list, got {_kind(value)}", container, key)
    allowed = OUT_FLAGS | PLOT_PROPS if kind is OutKind.PLOT else OUT_FLAGS
    outs: list[Out] = []
    for index, item in enumerate(value):
        flags: Mapping[Any, Any] = {}
        raw: Any = item
        if isinstance(item, Mapping):
            if len(item) != 1:
                fail_at(file, f"{where}: each entry of '{key}' is a path or one 'path: {{flags}}' mapping",
                        value, index)
            raw, flags = next(iter(item.items()))
            if flags is None:
                flags = {}
            elif not isinstance(flags, Mapping):
                fail_at(file, f"{where}: the flags of '{raw}' must be a mapping, got {_kind(flags)}", item, raw)
            _flags(file, f"{where}: '{raw}'", flags, allowed)
        if is_url(raw):  # SPEC §8.1: a URL out, never cached, never deleted by pv
            if kind is not OutKind.OUT or flags.get("cache", True):
                fail_at(file, f"{where}: the URL out '{raw}' needs 'cache: false' (pv does not store or delete it)",
                        value, index)
            outs.append(Out(path=raw, kind=kind, cache=False, persist=True, push=False, url=True))
            continue
        path = norm_path(raw, base=wdir, file=file, where=where, container=value, key=index)
        plot = None
        if kind is OutKind.PLOT:
            if "y" in flags:
                expect(file, where, flags, "y", str, "a field name")
            if "x" in flags:
                expect(file, where, flags, "x", str, "a field name")
            plot = PlotProps(**{k: flags[k] for k in PLOT_PROPS if k in flags})
        known = {"cache", "persist", "push", "remote", "desc"} | PLOT_PROPS
        outs.append(Out(
            path=path, kind=kind, cache=flags.get("cache", True), persist=flags.get("persist", False),
            push=flags.get("push", True), remote=flags.get("remote"), desc=flags.get("desc"), plot=plot,
            extra={k: plain(v) for k, v in flags.items() if k not in known},
        ))
    return tuple(outs)


def parse_param_deps(value: Any, *, wdir: str, file: str, where: str, container: Any) -> tuple[ParamDep, ...]:
    """Stage ``params``: keys of ``params.yaml``, ``{file: [keys] | null}``, or a bare file name."""
    if not isinstance(value, list):
        fail_at(file, f"{where}: 'params' must be a list, got {_kind(value)}", container, "params")
    default = norm_path(DEFAULT_PARAMS_FILE, base=wdir, file=file, where=where, container=container, key="params")
    merged: dict[str, list[str] | None] = {}

    def add(pfile: str, keys: list[str] | None) -> None:
        if keys is None or merged.get(pfile, []) is None:
            merged[pfile] = None
        else:
            current = merged.setdefault(pfile, [])
            assert current is not None
            current.extend(k for k in keys if k not in current)

    for index, item in enumerate(value):
        if isinstance(item, str) and item:
            if is_params_file(item):
                add(norm_path(item, base=wdir, file=file, where=where, container=value, key=index), None)
            else:
                add(default, [item])
        elif isinstance(item, Mapping):
            for pname, keys in item.items():
                pfile = norm_path(pname, base=wdir, file=file, where=where, container=item, key=pname)
                if keys is None or keys == []:
                    add(pfile, None)
                elif isinstance(keys, list) and all(isinstance(k, str) and k for k in keys):
                    add(pfile, list(keys))
                else:
                    fail_at(file, f"{where}: params of '{pname}' must be a list of keys or empty", item, pname)
        else:
            fail_at(file, f"{where}: a params entry is a key, a file name or {{file: [keys]}}", value, index)
    return tuple(ParamDep(f, None if keys is None else tuple(keys)) for f, keys in merged.items())


def parse_plot_defs(value: Any, *, base: str, file: str, container: Any) -> tuple[PlotDef, ...]:
    """Top-level ``plots``: a list of data paths or ``{id: {template, x, y, ...}}`` definitions."""
    entries: list[tuple[Any, Any, Any, Any]] = []  # (id, props, container, key)
    if isinstance(value, Mapping):
        entries = [(k, v, value, k) for k, v in value.items()]
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, Mapping) and len(item) == 1:
                pid, props = next(iter(item.items()))
                entries.append((pid, props, item, pid))
            elif isinstance(item, str):
                entries.append((item, None, value, index))
            else:
                fail_at(file, "plots: each entry is a path or one '{id: {definition}}' mapping", value, index)
    else:
        fail_at(file, f"'plots' must be a list, got {_kind(value)}", container, "plots")
    return tuple(_plot_def(pid, props, base=base, file=file, container=c, key=k) for pid, props, c, k in entries)


def _plot_def(pid: Any, props: Any, *, base: str, file: str, container: Any, key: Any) -> PlotDef:
    if not isinstance(pid, str) or not pid:
        fail_at(file, "plots: a plot id must be a non-empty string", container, key)
    where = f"plot '{pid}'"
    props = {} if props is None else props
    if not isinstance(props, Mapping):
        fail_at(file, f"{where}: its definition must be a mapping, got {_kind(props)}", container, key)
    _flags(file, where, props, PLOT_PROPS)

    def fields(raw: Any, ckey: Any, owner: Any) -> tuple[str, ...]:
        if isinstance(raw, str):
            return (raw,)
        if isinstance(raw, list) and all(isinstance(x, str) for x in raw):
            return tuple(raw)
        fail_at(file, f"{where}: a field must be a name or a list of names", owner, ckey)

    raw_y = props.get("y")
    if isinstance(raw_y, Mapping):
        y = {norm_path(f, base=base, file=file, where=where, container=raw_y, key=f): fields(v, f, raw_y)
             for f, v in raw_y.items()}
    else:
        data = norm_path(pid, base=base, file=file, where=where, container=container, key=key)
        y = {data: () if raw_y is None else fields(raw_y, "y", props)}
    raw_x = props.get("x")
    x: str | dict[str, str] | None = None
    if isinstance(raw_x, Mapping):
        x = {}
        for f, v in raw_x.items():
            if not isinstance(v, str):
                fail_at(file, f"{where}: 'x' maps a file to one field name", raw_x, f)
            x[norm_path(f, base=base, file=file, where=where, container=raw_x, key=f)] = v
    elif raw_x is not None:
        x = expect(file, where, props, "x", str, "a field name or {file: field}")
    rest = {k: props[k] for k in PLOT_PROPS - {"x", "y"} if k in props}
    return PlotDef(id=pid, y=y, props=PlotProps(x=x, **rest))


def parse_artifacts(value: Any, *, base: str, file: str, container: Any) -> dict[str, Artifact]:
    if not isinstance(value, Mapping):
        fail_at(file, f"'artifacts' must be a mapping of names to definitions, got {_kind(value)}",
                container, "artifacts")
    out: dict[str, Artifact] = {}
    for name, spec in value.items():
        if not isinstance(name, str) or not _ARTIFACT_NAME.fullmatch(name):
            fail_at(file, f"artifact name '{name}' must be letters and digits, with '-' or '_' inside", value, name)
        where = f"artifact '{name}'"
        if not isinstance(spec, Mapping) or "path" not in spec:
            fail_at(file, f"{where}: needs a mapping with at least 'path'", value, name)
        _flags(file, where, spec, ARTIFACT_KEYS)
        out[name] = Artifact(
            name=name, path=norm_path(spec["path"], base=base, file=file, where=where, container=spec, key="path"),
            type=spec.get("type"), desc=spec.get("desc"), labels=tuple(spec.get("labels", ())),
            meta=plain(spec.get("meta")), gates=_gates(spec, file=file, where=where),
        )
    return out


def _gates(spec: Any, *, file: str, where: str) -> dict[str, tuple[str, ...]]:
    """``gates: {STAGE: ['metrics.json:acc>=0.9', ...]}``: checks a promotion to STAGE must pass
    (their syntax is checked by the model registry when it promotes)."""
    raw = spec.get("gates")
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        fail_at(file, f"{where}: 'gates' must map stage names to lists of checks", spec, "gates")
    gates: dict[str, tuple[str, ...]] = {}
    for stage, checks in raw.items():
        if isinstance(checks, str):
            checks = [checks]
        if not isinstance(stage, str) or not isinstance(checks, list) or not all(isinstance(c, str) for c in checks):
            fail_at(file, f"{where}: gates of stage '{stage}' must be a list of 'FILE:KEY OP VALUE' strings", raw, stage)
        gates[stage] = tuple(checks)
    return gates
