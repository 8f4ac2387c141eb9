"""The stage graph: edges from outputs to the deps that read them, checks, ordering, scheduling.

The only importer of networkx, always inside functions (it is slow to import). A stage B depends
on stage A when one of B's deps (or params files) is one of A's outs, lies inside an out directory
of A, or is a directory that contains an out of A. Edges point downstream (producer -> consumer).
Order is topological, ties broken by the order of ``pv.yaml``, so plans are deterministic.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pipever.errors import CycleError, DuplicateOutError, MissingDepError, OverlappingOutError, StageError
from pipever.pipeline.stage import Pipeline

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True)
class StageGraph:
    nodes: tuple[str, ...]  # pv.yaml order
    edges: tuple[tuple[str, str], ...]  # (upstream, downstream)
    # stage -> dep -> the stages whose outs it reads
    producers: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict, hash=False)
    owners: Mapping[str, str] = field(default_factory=dict, hash=False)  # out path -> stage

    def upstream(self, name: str) -> tuple[str, ...]:
        return tuple(a for a, b in self.edges if b == name)

    def downstream(self, name: str) -> tuple[str, ...]:
        return tuple(b for a, b in self.edges if a == name)


def _parents(path: str) -> Iterable[str]:
    parts = path.split("/")
    for i in range(1, len(parts)):
        yield "/".join(parts[:i])


def _owners(pipeline: Pipeline) -> dict[str, str]:
    owners: dict[str, str] = {}
    for stage in pipeline.stages.values():
        for out in stage.all_outs:
            if out.path in owners:
                raise DuplicateOutError(out.path, [owners[out.path], stage.name])
            owners[out.path] = stage.name
    for path, owner in owners.items():
        for outer in _parents(path):
            if outer in owners:
                raise OverlappingOutError(path, outer, [owner, owners[outer]])
    return owners


def build_graph(pipeline: Pipeline) -> StageGraph:
    """Link stages through their deps and outs; DuplicateOutError, OverlappingOutError, CycleError."""
    owners = _owners(pipeline)
    ordered = sorted(owners)
    producers: dict[str, dict[str, tuple[str, ...]]] = {}
    edges: dict[tuple[str, str], None] = {}
    for stage in pipeline.stages.values():
        per_dep: dict[str, tuple[str, ...]] = {}
        # a params file is a dependency too (as in DVC): the stage writing it runs first
        for dep in dict.fromkeys((*stage.deps, *(p.file for p in stage.params))):
            found = [owners[p] for p in (*_parents(dep), dep) if p in owners]
            start = bisect.bisect_left(ordered, dep + "/")
            for path in ordered[start:]:
                if not path.startswith(dep + "/"):
                    break
                found.append(owners[path])
            if stage.name in found:
                raise CycleError([stage.name])
            per_dep[dep] = tuple(dict.fromkeys(found))
            for producer in per_dep[dep]:
                edges[(producer, stage.name)] = None
        producers[stage.name] = per_dep
    graph = StageGraph(tuple(pipeline.stages), tuple(edges), producers, owners)
    _check_acyclic(graph)
    return graph


def _nx(graph: StageGraph) -> nx.DiGraph[str]:
    import networkx as nx

    g: nx.DiGraph[str] = nx.DiGraph()
    g.add_nodes_from(graph.nodes)
    g.add_edges_from(graph.edges)
    return g


def _check_acyclic(graph: StageGraph) -> None:
    if _kahn(graph, graph.nodes) is not None:
        return  # acyclic: the common case needs no networkx import (~0.3 s)
    import networkx as nx

    try:
        cycle = nx.find_cycle(_nx(graph))
    except nx.NetworkXNoCycle:
        return
    raise CycleError([a for a, _ in cycle])


def check_deps(pipeline: Pipeline, graph: StageGraph, *, exists: Callable[[str], bool],
               stages: Iterable[str] | None = None) -> None:
    """MissingDepError for the first dep of ``stages`` (default: all) that no stage produces and
    that ``exists(rel)`` says is not there."""
    for name in graph.nodes if stages is None else stages:
        for dep in pipeline.stages[name].deps:
            if not graph.producers.get(name, {}).get(dep) and not exists(dep):
                raise MissingDepError(dep, name)


def _kahn(graph: StageGraph, keep: Collection[str]) -> tuple[str, ...] | None:
    """Topological order of ``keep`` (ties broken by pv.yaml order, as networkx's
    ``lexicographical_topological_sort`` with that key), or None when it has a cycle. Plain
    Python: repro and status need it on every run and networkx is slow to import."""
    rank = {name: i for i, name in enumerate(graph.nodes)}
    indegree = {n: 0 for n in keep}
    succ: dict[str, list[str]] = {n: [] for n in keep}
    for a, b in graph.edges:
        if a in indegree and b in indegree:
            succ[a].append(b)
            indegree[b] += 1
    heap = [(rank[n], n) for n, d in indegree.items() if d == 0]
    heapq.heapify(heap)
    order: list[str] = []
    while heap:
        _, n = heapq.heappop(heap)
        order.append(n)
        for m in succ[n]:
            indegree[m] -= 1
            if indegree[m] == 0:
                heapq.heappush(heap, (rank[m], m))
    return tuple(order) if len(order) == len(indegree) else None


def _toposort(graph: StageGraph, keep: Collection[str]) -> tuple[str, ...]:
    order = _kahn(graph, keep)
    assert order is not None, "build_graph refuses cycles"
    return order


def _reachable(graph: StageGraph, start: str, *, down: bool) -> set[str]:
    """Stages downstream (``down``) or upstream of ``start``, without it."""
    nexts: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for a, b in graph.edges:
        nexts[a if down else b].append(b if down else a)
    seen: set[str] = set()
    stack = list(nexts[start])
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(nexts[n])
    return seen


def plan(graph: StageGraph, targets: Iterable[str] = (), *, downstream: bool = False,
         single: bool = False) -> tuple[str, ...]:
    """Stages to consider, in run order.

    No targets: every stage. Otherwise the targets with everything upstream of them (what
    ``pv repro T`` needs), only what is downstream of them with ``downstream``, or just the
    targets with ``single`` (``-s``). Targets are stage names (see ``Pipeline.resolve``).
    """
    wanted = list(dict.fromkeys(targets))
    unknown = [t for t in wanted if t not in graph.nodes]
    if unknown:
        raise StageError(f"stage '{unknown[0]}' does not exist", hint="see 'pv stage list'")
    if not wanted:
        return _toposort(graph, graph.nodes)
    keep = set(wanted)
    if not single:
        for target in wanted:
            keep |= _reachable(graph, target, down=downstream)
    return _toposort(graph, keep)


def subgraph(graph: StageGraph, names: Iterable[str]) -> StageGraph:
    keep = set(names)
    return StageGraph(
        nodes=tuple(n for n in graph.nodes if n in keep),
        edges=tuple(e for e in graph.edges if e[0] in keep and e[1] in keep),
        producers={n: p for n, p in graph.producers.items() if n in keep},
        owners={path: s for path, s in graph.owners.items() if s in keep},
    )


def components(graph: StageGraph) -> list[tuple[str, ...]]:
    """Weakly connected parts (separate pipelines), each in pv.yaml order, ordered by first stage."""
    import networkx as nx

    rank = {name: i for i, name in enumerate(graph.nodes)}
    parts = [sorted(c, key=rank.__getitem__) for c in nx.weakly_connected_components(_nx(graph))]
    return [tuple(p) for p in sorted(parts, key=lambda p: rank[p[0]])]


def outs_graph(pipeline: Pipeline, graph: StageGraph) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """``pv dag --outs``: nodes are outputs; an output points to every output of a stage that reads it."""
    nodes = tuple(o.path for name in graph.nodes for o in pipeline.stages[name].all_outs)
    edges: dict[tuple[str, str], None] = {}
    for name in graph.nodes:
        stage = pipeline.stages[name]
        read: dict[str, None] = {}
        for dep in stage.deps:
            for path, owner in graph.owners.items():
                if owner != name and (path == dep or path.startswith(dep + "/") or dep.startswith(path + "/")):
                    read[path] = None
        for src in read:
            for out in stage.all_outs:
                edges[(src, out.path)] = None
    return nodes, tuple(edges)


@dataclass(frozen=True)
class Schedule:
    """Run order of a plan and, for each stage, the planned stages it must wait for."""

    order: tuple[str, ...]
    needs: Mapping[str, frozenset[str]] = field(hash=False)


def schedule(graph: StageGraph, order: Iterable[str]) -> Schedule:
    """Restrict the graph to ``order`` (a plan) for ``ready``/``blocked``."""
    names = tuple(order)
    keep = set(names)
    needs = {n: frozenset(_reachable(graph, n, down=False) & keep) for n in names}
    return Schedule(names, needs)


def ready(sched: Schedule, *, done: Collection[str], running: Collection[str] = (),
          failed: Collection[str] = ()) -> tuple[str, ...]:
    """Stages that can start now (in plan order): not started, and everything they need is done.

    A stage needing a failed one never becomes ready (see ``blocked``).
    """
    return tuple(
        n for n in sched.order
        if n not in done and n not in running and n not in failed and sched.needs[n] <= set(done)
    )


def blocked(sched: Schedule, failed: Collection[str]) -> tuple[str, ...]:
    """Stages that cannot run because something they need failed (``-k`` goes on with the rest)."""
    bad = set(failed)
    return tuple(n for n in sched.order if n not in bad and sched.needs[n] & bad)


def describe(graph: StageGraph) -> dict[str, Any]:
    """JSON-friendly form: ``{"nodes": [...], "edges": [{"from": a, "to": b}]}``."""
    return {"nodes": list(graph.nodes), "edges": [{"from": a, "to": b} for a, b in graph.edges]}
