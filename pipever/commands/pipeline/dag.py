"""``pv dag``: the stage graph (or, with ``outs``, the graph of outputs) of the pipeline, or of
one target and everything it depends on."""

from __future__ import annotations

from dataclasses import dataclass

from pipever.services import stages as st
from pipever.context import RepoContext


@dataclass(frozen=True)
class DagResult:
    nodes: tuple[str, ...]  # pv.yaml order; stages named as DVC shows them from the current folder
    edges: tuple[tuple[str, str], ...]  # (upstream, downstream)


def dag(repo: RepoContext, target: str | None = None, *, outs: bool = False) -> DagResult:
    from pipever.pipeline import dag as graphs

    pipeline = st.load_pipeline(repo)
    graph = graphs.build_graph(pipeline)
    if target is not None:
        graph = graphs.subgraph(graph, graphs.plan(graph, st.resolve_targets(pipeline, [target], root=repo.root)))
    if outs:
        nodes, edges = graphs.outs_graph(pipeline, graph)
        return DagResult(nodes, edges)
    from pipever.pipeline.multi import display

    cwd = st.cwd_dir(repo.root)
    return DagResult(tuple(display(n, cwd) for n in graph.nodes),
                     tuple((display(a, cwd), display(b, cwd)) for a, b in graph.edges))
