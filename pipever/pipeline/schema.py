"""``pv.yaml`` -> ``Pipeline``: DVC's dvc.yaml schema, templating, foreach/matrix, strict checks.

``load_pipeline(text, path, read_file=...)`` is pure apart from ``read_file(rel) -> str | None``,
which reads ``params.yaml`` and ``vars`` files (from the workspace or a Git revision). Every problem
is a SchemaError naming ``pv.yaml:LINE``: invalid YAML, unknown keys, wrong types, an undefined
``${var}``, a path that leaves the repository. The graph checks (cycles, outputs produced twice)
are in ``dag.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from pipever.errors import SchemaError
from pipever.paths import check_relpath, join, parent
from pipever.pipeline.expand import DO, FOREACH, MATRIX, Generated, expand_foreach, expand_matrix
from pipever.pipeline.fields import (
    check_keys,
    expect,
    fail_at,
    norm_path,
    parse_artifacts,
    parse_outs,
    parse_param_deps,
    parse_plot_defs,
    path_list,
    plain,
    url_list,
)
from pipever.pipeline.interpolate import ConflictError, Context, Fail, InterpolationError, render
from pipever.pipeline.marked import MDict, line_in, load_marked
from pipever.pipeline.params import MISSING, get_value, parse_params
from pipever.pipeline.stage import DEFAULT_PARAMS_FILE, OutKind, ParamDep, Pipeline, Stage

ReadFile = Callable[[str], "str | None"]
TOP_KEYS = frozenset({"stages", "vars", "params", "metrics", "plots", "artifacts"})
STAGE_KEYS = frozenset({
    "cmd", "wdir", "deps", "params", "outs", "metrics", "plots", "frozen", "always_changed", "desc", "meta", "vars",
})
_STAGE_NAME = re.compile(r"[^\s/\\@:,\x00-\x1f\x7f]+")
Loaded = dict[str, "set[str] | None"]  # vars file -> keys taken from it (None: all of it)


def load_pipeline(text: str | bytes, path: str = "pv.yaml", *, read_file: ReadFile) -> Pipeline:
    """Parse and validate ``pv.yaml`` (repo-relative ``path``) into a Pipeline."""
    file = check_relpath(path)
    base = parent(file)
    raw = load_marked(text, file)
    if raw is None:
        return Pipeline(file=file)
    if not isinstance(raw, MDict):
        raise SchemaError(file, "the top level must be a mapping with 'stages'", line=1)
    check_keys(file, "top level", raw, TOP_KEYS)
    ctx = Context()
    loaded: Loaded = {}
    default = join(base, DEFAULT_PARAMS_FILE)
    default_text = read_file(default)
    if default_text is not None:
        ctx.add(parse_params(default_text, default), default)
        loaded[default] = None
    if "vars" in raw:
        add_vars(ctx, raw, base=base, file=file, read_file=read_file, loaded=loaded)
    stages, groups = _load_stages(raw, ctx, base=base, file=file, read_file=read_file, loaded=loaded)
    top = render(_subset(raw, ("params", "metrics", "plots", "artifacts")), ctx, fail=_failer(file, "top level"))
    return Pipeline(
        file=file,
        stages=stages,
        params_files=path_list(top["params"], base=base, file=file, where="params", container=top, key="params")
        if "params" in top else (),
        metrics_files=path_list(top["metrics"], base=base, file=file, where="metrics", container=top, key="metrics")
        if "metrics" in top else (),
        plots=parse_plot_defs(top["plots"], base=base, file=file, container=top) if "plots" in top else (),
        artifacts=parse_artifacts(top["artifacts"], base=base, file=file, container=top) if "artifacts" in top else {},
        groups=groups,
    )


def _subset(mapping: MDict, keys: tuple[Any, ...]) -> MDict:
    """The given keys of ``mapping``, keeping their line marks."""
    out = MDict(((k, v) for k, v in mapping.items() if k in keys), line=mapping.line)
    out.key_lines = {k: n for k, n in mapping.key_lines.items() if k in keys}
    return out


def _failer(file: str, where: str) -> Fail:
    def fail(exc: InterpolationError, container: Any, key: Any) -> NoReturn:
        raise SchemaError(file, f"{where}: {exc}", line=line_in(container, key)) from exc

    return fail


def add_vars(ctx: Context, container: MDict, *, base: str, file: str, read_file: ReadFile, loaded: Loaded) -> None:
    """Merge a ``vars`` list (file names, ``file:key1,key2``, inline mappings) into ``ctx``."""
    items = container["vars"]
    if not isinstance(items, list):
        fail_at(file, "'vars' must be a list of files and mappings", container, "vars")
    for index, item in enumerate(items):
        if isinstance(item, Mapping):
            _merge(ctx, plain(item), None, file=file, container=items, index=index)
        elif isinstance(item, str) and item:
            name, _, keys_text = item.partition(":")
            keys = [k.strip() for k in keys_text.split(",") if k.strip()] if keys_text else None
            rel = norm_path(name, base=base, file=file, where="vars", container=items, key=index)
            _add_vars_file(ctx, rel, keys, file=file, read_file=read_file, loaded=loaded, container=items, index=index)
        else:
            fail_at(file, "vars: each entry is a file name or a mapping of values", items, index)


def _add_vars_file(ctx: Context, rel: str, keys: list[str] | None, *, file: str, read_file: ReadFile,
                   loaded: Loaded, container: Any, index: int) -> None:
    before = loaded.get(rel, set())
    if before is None:
        return  # already loaded in full (params.yaml is always loaded first)
    text = read_file(rel)
    if text is None:
        fail_at(file, f"vars: file '{rel}' does not exist", container, index)
    data = parse_params(text, rel)
    wanted = keys if keys is not None else list(data)
    selected: dict[str, Any] = {}
    for key in wanted:
        if key in before:
            continue
        value = get_value(data, key)
        if value is MISSING:
            fail_at(file, f"vars: '{key}' is not defined in '{rel}'", container, index)
        node = selected
        *heads, last = key.split(".")
        for head in heads:
            node = node.setdefault(head, {})
        node[last] = value
    _merge(ctx, selected, rel, file=file, container=container, index=index)
    loaded[rel] = None if keys is None else before | set(keys)


def _merge(ctx: Context, values: dict[str, Any], source: str | None, *, file: str, container: Any, index: int) -> None:
    try:
        ctx.add(values, source)
    except ConflictError as exc:
        origin = f"'{source}'" if source else "an inline mapping"
        fail_at(file, f"vars: {origin} redefines '{exc.key}', which is already defined", container, index)


def _load_stages(raw: MDict, ctx: Context, *, base: str, file: str, read_file: ReadFile,
                 loaded: Loaded) -> tuple[dict[str, Stage], dict[str, tuple[str, ...]]]:
    entries = raw.get("stages")
    if entries is None:
        return {}, {}
    if not isinstance(entries, MDict):
        fail_at(file, "'stages' must be a mapping of stage names to definitions", raw, "stages")
    stages: dict[str, Stage] = {}
    groups: dict[str, tuple[str, ...]] = {}
    for name, entry in entries.items():
        if not isinstance(name, str) or not _STAGE_NAME.fullmatch(name):
            fail_at(file, f"invalid stage name '{name}': no spaces or any of / \\ @ : ,", entries, name)
        if not isinstance(entry, MDict):
            fail_at(file, f"stage '{name}' must be a mapping of stage keys", entries, name)
        if FOREACH in entry:
            generated = expand_foreach(name, entry, ctx, file=file)
        elif MATRIX in entry:
            generated = expand_matrix(name, entry, ctx, file=file)
        elif DO in entry:
            fail_at(file, f"stage '{name}': 'do' needs 'foreach'", entry, DO)
        else:
            generated = [Generated(name, entry, ctx)]
        group = None if generated and generated[0].name == name else name
        if group is not None:
            groups[name] = tuple(g.name for g in generated)
        for gen in generated:
            if gen.name in stages:
                fail_at(file, f"stage '{gen.name}' is defined twice", entries, name)
            stages[gen.name] = build_stage(gen, base=base, file=file, read_file=read_file, loaded=loaded, group=group)
    return stages, groups


def build_stage(gen: Generated, *, base: str, file: str, read_file: ReadFile, loaded: Loaded,
                group: str | None) -> Stage:
    """One (generated) stage definition, rendered in its context and validated."""
    name, d = gen.name, gen.definition
    where = f"stage '{name}'"
    check_keys(file, where, d, STAGE_KEYS)
    if "cmd" not in d:
        fail_at(file, f"{where}: 'cmd' is required", d, None)
    ctx = gen.context.child()
    fail = _failer(file, where)
    raw_wdir = render(d["wdir"], ctx, fail=fail) if "wdir" in d else "."
    wdir = norm_path(raw_wdir, base=base, file=file, where=where, container=d, key="wdir", allow_root=True)
    if "vars" in d:
        add_vars(ctx, d, base=wdir, file=file, read_file=read_file, loaded=dict(loaded))
    body = render(_subset(d, tuple(k for k in d if k not in ("vars", "wdir"))), ctx, fail=fail)
    cmd = body["cmd"]
    if isinstance(cmd, str) and cmd.strip():
        cmds, is_list = (cmd,), False
    elif isinstance(cmd, list) and cmd and all(isinstance(c, str) and c.strip() for c in cmd):
        cmds, is_list = tuple(cmd), True
    else:
        fail_at(file, f"{where}: 'cmd' must be a command or a non-empty list of commands", body, "cmd")
    for key in ("frozen", "always_changed"):
        if key in body:
            expect(file, where, body, key, bool, "true or false")
    if "desc" in body:
        expect(file, where, body, "desc", str, "a string")
    outs, metrics, plots = (
        parse_outs(body[key], kind, wdir=wdir, file=file, where=where, container=body, key=key) if key in body else ()
        for key, kind in (("outs", OutKind.OUT), ("metrics", OutKind.METRIC), ("plots", OutKind.PLOT))
    )
    url_outs = tuple(o for o in outs if o.url)
    outs = tuple(o for o in outs if not o.url)
    url_deps = url_list(body["deps"]) if "deps" in body else ()
    seen: set[str] = set()
    for out in (*outs, *metrics, *plots):
        if out.path in seen:
            fail_at(file, f"{where}: output '{out.path}' is listed twice", body, None)
        seen.add(out.path)
    params = parse_param_deps(body["params"], wdir=wdir, file=file, where=where, container=body) \
        if "params" in body else ()
    return Stage(
        name=name, cmd=cmds, cmd_is_list=is_list, wdir=wdir,
        deps=path_list(body["deps"], base=wdir, file=file, where=where, container=body, key="deps", urls=True)
        if "deps" in body else (),
        url_deps=url_deps, url_outs=url_outs,
        params=with_tracked(params, ctx.used), outs=outs, metrics=metrics, plots=plots,
        frozen=bool(body.get("frozen", False)), always_changed=bool(body.get("always_changed", False)),
        desc=body.get("desc"), meta=plain(body.get("meta")), group=group,
        declared_params=tuple(dict.fromkeys(d.file for d in params)),
    )


def with_tracked(deps: tuple[ParamDep, ...], used: Mapping[str, Mapping[str, Any]]) -> tuple[ParamDep, ...]:
    """Add the params-file values a stage used in ``${...}`` to its param dependencies."""
    merged: dict[str, list[str] | None] = {d.file: None if d.keys is None else list(d.keys) for d in deps}
    for pfile, keys in used.items():
        current = merged.setdefault(pfile, [])
        if current is not None:
            current.extend(k for k in keys if k not in current)
    return tuple(ParamDep(f, None if k is None else tuple(k)) for f, k in merged.items())
