"""The shape of the package (issue 13, STYLE.md "Layering rules"): imports point down the layers,
no import circle (imports inside functions and under TYPE_CHECKING count), no folder of more than
25 modules, and typer/rich, gitpython, fsspec and networkx each imported only by their owner.

The layers, lowest first. A module may import its own layer or a lower one; a new top-level module
or package must be given a layer here, so the map in README's "How it is built" stays true."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "pipever"

LAYERS: list[tuple[str, ...]] = [
    ("errors", "paths", "fsutil", "yamlio", "concurrency", "notices"),  # fs helpers, the error tree, warnings
    ("objects",),  # content-addressed core
    ("data", "pipeline", "experiments", "registry", "compare"),  # models, schema, dag
    ("remote", "git", "gitclone", "config", "lock"),  # the outside world
    ("context",),  # the repo context every command takes
    ("services", "executor"),  # what several commands share; where stages run (--executor)
    ("commands",),  # one package per domain
    ("api", "repo", "cli", "ui", "__init__", "__main__"),  # the public facade, the shell, the dashboard
]
RANK = {name: i for i, names in enumerate(LAYERS) for name in names}

# third-party package -> the only places that may import it
OWNERS = {
    "typer": ("pipever.cli",),
    "rich": ("pipever.cli",),
    "click": ("pipever.cli",),
    "git": ("pipever.git",),
    "fsspec": ("pipever.remote",),
    "networkx": ("pipever.pipeline.dag",),
    "distributed": ("pipever.executor",),
}


def modules() -> dict[str, Path]:
    out = {}
    for f in sorted(PKG.rglob("*.py")):
        parts = list(f.relative_to(PKG.parent).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


def imported_names(name: str, path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            yield base
            yield from (f"{base}.{a.name}" for a in node.names)


def graph() -> dict[str, set[str]]:
    mods = modules()
    g: dict[str, set[str]] = {}
    for name, path in mods.items():
        deps = set()
        for cand in imported_names(name, path):
            while cand and cand not in mods:
                cand = cand.rpartition(".")[0]
            # a package's __init__ importing its own submodules is no circle of design
            if cand and cand != name and not cand.startswith(name + ".") and cand != "pipever":
                deps.add(cand)
        g[name] = deps
    return g


def layer_of(module: str) -> int:
    top = module.split(".")[1] if "." in module else "__init__"
    if top not in RANK:
        pytest.fail(f"'{module}' is in no layer: add '{top}' to LAYERS in {Path(__file__).name} (and to README's map)")
    return RANK[top]


def circles(g: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:  # Tarjan, iterative enough for a package of a few hundred modules
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return found


def test_no_import_circle() -> None:
    assert circles(graph()) == []


def test_imports_point_down_the_layers() -> None:
    g = graph()
    upward = sorted(f"{m} -> {d}" for m, deps in g.items() for d in deps if layer_of(d) > layer_of(m))
    assert upward == []


def test_no_folder_holds_more_than_25_modules() -> None:
    crowded = {}
    for d in [PKG, *(p for p in PKG.rglob("*") if p.is_dir() and p.name != "__pycache__")]:
        n = sum(1 for f in d.glob("*.py") if f.name != "__init__.py")
        if n > 25:
            crowded[str(d.relative_to(PKG.parent))] = n
    assert crowded == {}


def test_heavy_and_ui_libraries_have_one_owner() -> None:
    wrong = []
    for name, path in modules().items():
        for imp in imported_names(name, path):
            top = imp.partition(".")[0]
            owners = OWNERS.get(top)
            if owners and not any(name == o or name.startswith(o + ".") for o in owners):
                wrong.append(f"{name} imports {imp}")
    assert sorted(set(wrong)) == []


def test_the_checker_sees_a_circle_and_an_upward_import() -> None:
    """The checks above can fail: a made-up graph with a circle and a service importing a command."""
    g = {"pipever.services.a": {"pipever.commands.x"}, "pipever.commands.x": {"pipever.services.a"}}
    assert circles(g) == [["pipever.commands.x", "pipever.services.a"]]
    assert layer_of("pipever.commands.x") > layer_of("pipever.services.a")
