"""The stage graph: edges through outs, graph errors, plans, scheduling, rendering."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from pipever.errors import CycleError, DuplicateOutError, MissingDepError, OverlappingOutError, StageError
from pipever.pipeline import dag, dagview
from pipever.pipeline.schema import load_pipeline
from pipever.pipeline.stage import Pipeline

PIPELINE = """
stages:
  prepare: {cmd: a, deps: [data/raw.csv], outs: [data/prepared]}
  featurize: {cmd: b, deps: [data/prepared], outs: [data/features]}
  split: {cmd: c, deps: [data/prepared/part.csv], outs: [data/split]}
  train: {cmd: d, deps: [data/features, data/split], outs: [model.pkl]}
  evaluate: {cmd: e, deps: [model.pkl, data/features], metrics: [m.json]}
  report: {cmd: f, deps: [data], outs: [report.html]}
  other: {cmd: g, outs: [o]}
"""


def load(text: str = PIPELINE) -> Pipeline:
    return load_pipeline(textwrap.dedent(text), "pv.yaml", read_file=lambda rel: None)


@pytest.fixture
def graph() -> dag.StageGraph:
    return dag.build_graph(load())


def test_edges_follow_outs_into_and_around_directories(graph: dag.StageGraph) -> None:
    assert set(graph.edges) == {
        ("prepare", "featurize"),
        ("prepare", "split"),  # dep inside an out directory
        ("featurize", "train"), ("split", "train"),
        ("train", "evaluate"), ("featurize", "evaluate"),
        ("prepare", "report"), ("featurize", "report"), ("split", "report"),  # outs inside a dep directory
    }
    assert graph.upstream("train") == ("featurize", "split")
    assert graph.downstream("train") == ("evaluate",)
    assert graph.producers["split"] == {"data/prepared/part.csv": ("prepare",)}
    assert graph.producers["prepare"] == {"data/raw.csv": ()}
    assert graph.owners["m.json"] == "evaluate"


def test_plan_all_targets_downstream_single(graph: dag.StageGraph) -> None:
    assert dag.plan(graph) == ("prepare", "featurize", "split", "train", "evaluate", "report", "other")
    assert dag.plan(graph, ["train"]) == ("prepare", "featurize", "split", "train")
    assert dag.plan(graph, ["featurize"], downstream=True) == ("featurize", "train", "evaluate", "report")
    assert dag.plan(graph, ["train", "prepare"], single=True) == ("prepare", "train")
    assert dag.plan(graph, ["other"]) == ("other",)


def test_plan_unknown_target(graph: dag.StageGraph) -> None:
    with pytest.raises(StageError, match="stage 'nope' does not exist"):
        dag.plan(graph, ["nope"])


def test_schedule_ready_and_blocked(graph: dag.StageGraph) -> None:
    sched = dag.schedule(graph, dag.plan(graph, ["evaluate"]))
    assert dag.ready(sched, done=()) == ("prepare",)
    assert dag.ready(sched, done={"prepare"}) == ("featurize", "split")
    assert dag.ready(sched, done={"prepare"}, running={"featurize"}) == ("split",)
    assert dag.ready(sched, done={"prepare", "featurize"}, running={"split"}) == ()
    assert dag.ready(sched, done={"prepare", "featurize", "split", "train", "evaluate"}) == ()
    assert dag.blocked(sched, {"split"}) == ("train", "evaluate")
    assert dag.ready(sched, done={"prepare", "featurize"}, failed={"split"}) == ()


def test_schedule_of_a_single_stage_plan_needs_nothing_outside_it(graph: dag.StageGraph) -> None:
    sched = dag.schedule(graph, dag.plan(graph, ["train"], single=True))
    assert dag.ready(sched, done=()) == ("train",)


def test_cycle_is_listed() -> None:
    with pytest.raises(CycleError) as info:
        dag.build_graph(load("""
            stages:
              a: {cmd: x, deps: [c.txt], outs: [a.txt]}
              b: {cmd: x, deps: [a.txt], outs: [b.txt]}
              c: {cmd: x, deps: [b.txt], outs: [c.txt]}
            """))
    assert sorted(info.value.cycle) == ["a", "b", "c"]
    assert info.value.message.startswith("pipeline has a cycle: ")
    assert info.value.render().count("->") == 3


def test_stage_depending_on_its_own_out_is_a_cycle() -> None:
    with pytest.raises(CycleError) as info:
        dag.build_graph(load("stages:\n  a: {cmd: x, deps: [out/x], outs: [out]}\n"))
    assert info.value.cycle == ["a"] and "a -> a" in info.value.message


def test_same_out_in_two_stages() -> None:
    with pytest.raises(DuplicateOutError) as info:
        dag.build_graph(load("stages:\n  a: {cmd: x, outs: [o]}\n  b: {cmd: y, metrics: [o]}\n"))
    assert info.value.out == "o" and info.value.stages == ["a", "b"]
    assert info.value.render() == ("output 'o' is produced by more than one stage: 'a', 'b'"
                                   " — give each output to exactly one stage")


@pytest.mark.parametrize("text", [
    "stages:\n  a: {cmd: x, outs: [data]}\n  b: {cmd: y, outs: [data/sub/x.csv]}\n",
    "stages:\n  a: {cmd: x, outs: [data/sub/x.csv]}\n  b: {cmd: y, outs: [data]}\n",
    "stages:\n  a: {cmd: x, outs: [data, data/x]}\n",
])
def test_out_inside_another_out(text: str) -> None:
    with pytest.raises(OverlappingOutError, match="is inside output 'data'"):
        dag.build_graph(load(text))


def test_similar_prefixes_do_not_overlap() -> None:
    g = dag.build_graph(load("stages:\n  a: {cmd: x, outs: [data]}\n  b: {cmd: y, deps: [data2], outs: [data-x]}\n"))
    assert g.edges == ()


def test_missing_dep() -> None:
    p = load(PIPELINE)
    g = dag.build_graph(p)
    with pytest.raises(MissingDepError) as info:
        dag.check_deps(p, g, exists=lambda rel: False)
    assert (info.value.dep, info.value.stage) == ("data/raw.csv", "prepare")
    assert "dependency 'data/raw.csv' of stage 'prepare' does not exist and no stage produces it" in info.value.message
    dag.check_deps(p, g, exists={"data/raw.csv"}.__contains__)
    dag.check_deps(p, g, exists=lambda rel: False, stages=["train", "other"])  # produced deps are fine


def test_subgraph_and_components(graph: dag.StageGraph) -> None:
    sub = dag.subgraph(graph, dag.plan(graph, ["train"]))
    assert sub.nodes == ("prepare", "featurize", "split", "train") and ("train", "evaluate") not in sub.edges
    assert dag.components(graph) == [
        ("prepare", "featurize", "split", "train", "evaluate", "report"), ("other",)]


def test_outs_graph() -> None:
    p = load("stages:\n  a: {cmd: x, outs: [d]}\n  b: {cmd: y, deps: [d/f.csv], outs: [m.pkl], metrics: [s.json]}\n")
    nodes, edges = dag.outs_graph(p, dag.build_graph(p))
    assert nodes == ("d", "m.pkl", "s.json") and edges == (("d", "m.pkl"), ("d", "s.json"))


def test_describe(graph: dag.StageGraph) -> None:
    data = dag.describe(dag.subgraph(graph, ["prepare", "featurize"]))
    assert data == {"nodes": ["prepare", "featurize"], "edges": [{"from": "prepare", "to": "featurize"}]}


def test_render_dot_mermaid_md() -> None:
    nodes, edges = ("prepare", 'we"ird'), (("prepare", 'we"ird'),)
    assert dagview.to_dot(nodes, edges) == 'strict digraph  {\n"prepare";\n"we\\"ird";\n"prepare" -> "we\\"ird";\n}\n'
    assert dagview.to_mermaid(nodes, edges) == (
        'flowchart TD\n\tnode1["prepare"]\n\tnode2["we#quot;ird"]\n\tnode1-->node2\n')
    md = dagview.render(nodes, edges, dagview.Format.MD)
    assert md.startswith("```mermaid\nflowchart TD\n") and md.endswith("```\n")


def test_render_ascii_chain() -> None:
    assert dagview.to_ascii(("prepare", "train"), (("prepare", "train"),)) == textwrap.dedent("""\
        +---------+
        | prepare |
        +---------+
             *
             *
             *
         +-------+
         | train |
         +-------+
        """)


def test_render_ascii_has_every_node_and_parts(graph: dag.StageGraph) -> None:
    text = dagview.to_ascii(graph.nodes, graph.edges)
    for name in graph.nodes:
        assert f"| {name} |" in text
    assert text.index("| prepare |") < text.index("| train |") < text.index("| evaluate |")
    assert "\n\n" in text  # 'other' is drawn apart
    assert dagview.to_ascii((), ()) == ""


def test_networkx_is_imported_lazily() -> None:
    code = ("import sys; import pipever.pipeline.schema, pipever.pipeline.dag, pipever.pipeline.status, "
            "pipever.pipeline.lockfile, pipever.pipeline.dagview; print('networkx' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
