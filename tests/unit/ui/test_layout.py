"""The DAG layout of the Pipeline view: columns by depth, no overlaps."""

from __future__ import annotations

from pipever.ui.layout import layers, layout


def test_columns_follow_the_longest_upstream_path() -> None:
    edges = [("a", "b"), ("b", "d"), ("a", "d"), ("c", "d"), ("d", "e")]
    assert layers(["a", "b", "c", "d", "e", "lone"], edges) == {"a": 0, "b": 1, "c": 0, "d": 2, "e": 3, "lone": 0}


def test_boxes_do_not_overlap_and_fit_the_canvas() -> None:
    nodes = [f"s{i}" for i in range(7)]
    edges = [("s0", "s3"), ("s1", "s3"), ("s2", "s4"), ("s3", "s5"), ("s4", "s5"), ("s5", "s6")]
    lay = layout(nodes, edges)
    boxes = lay["nodes"]
    assert isinstance(boxes, dict) and set(boxes) == set(nodes)
    for a in nodes:
        for b in nodes:
            if a < b:
                p, q = boxes[a], boxes[b]
                apart = p["x"] + p["w"] <= q["x"] or q["x"] + q["w"] <= p["x"] or p["y"] + p["h"] <= q["y"] or q["y"] + q["h"] <= p["y"]
                assert apart, (a, b)
    assert all(b["x"] + b["w"] <= lay["width"] and b["y"] + b["h"] <= lay["height"] for b in boxes.values())  # type: ignore[operator]
    assert layout([], [])["nodes"] == {}


def test_a_cycle_does_not_loop_forever() -> None:
    assert set(layers(["a", "b"], [("a", "b"), ("b", "a")])) == {"a", "b"}
