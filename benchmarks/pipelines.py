"""Pipeline workloads W9 (8-stage fan-out/fan-in of sleeping stages) and W10 (100 trivial stages).

The pipeline text is the same for both tools, saved as ``pv.yaml`` or ``dvc.yaml``.
"""

from __future__ import annotations

from benchmarks.scenario import Ctx, Scenario, Step

FAN_WORKERS = ("w1", "w2", "w3", "w4")
FAN_DEPTH = 4  # prep -> w* -> merge_* -> final
LEAF_DEPTH = 3  # a change to in/w1.txt re-runs w1 -> merge_a -> final


def _stage(name: str, cmd: str, deps: list[str], outs: list[str]) -> str:
    return (
        f"  {name}:\n    cmd: {cmd}\n    deps: [{', '.join(deps)}]\n    outs: [{', '.join(outs)}]\n"
    )


def fan_pipeline(stage_s: float) -> str:
    """prep fans out to 4 workers, two merges fan in, one final stage: 8 stages, depth 4."""
    sleep = f"sleep {stage_s:g} &&"
    text = [
        "stages:\n",
        _stage("prep", f"{sleep} cat in/prep.txt > prep.out", ["in/prep.txt"], ["prep.out"]),
    ]
    for worker in FAN_WORKERS:
        text.append(
            _stage(
                worker,
                f"{sleep} cat prep.out in/{worker}.txt > {worker}.out",
                ["prep.out", f"in/{worker}.txt"],
                [f"{worker}.out"],
            )
        )
    for merge, (a, b) in (("merge_a", ("w1", "w2")), ("merge_b", ("w3", "w4"))):
        text.append(
            _stage(
                merge,
                f"{sleep} cat {a}.out {b}.out > {merge}.out",
                [f"{a}.out", f"{b}.out"],
                [f"{merge}.out"],
            )
        )
    text.append(
        _stage(
            "final",
            f"{sleep} cat merge_a.out merge_b.out > final.out",
            ["merge_a.out", "merge_b.out"],
            ["final.out"],
        )
    )
    return "".join(text)


def trivial_pipeline(n_stages: int) -> str:
    """``n_stages`` independent stages, each writing one small file from a shared dep."""
    text = ["stages:\n"]
    for i in range(n_stages):
        out = f"outs/s{i:03d}.txt"
        text.append(_stage(f"s{i:03d}", f"echo {i} > {out}", ["seed.txt"], [out]))
    return "".join(text)


def fan_in_out(ctx: Ctx) -> None:
    repo = ctx.new_repo()
    (repo / "in").mkdir()
    for leaf in ("prep", *FAN_WORKERS):
        (repo / "in" / f"{leaf}.txt").write_text(f"{leaf}\n")
    (repo / ctx.tool.flavor.pipeline_file).write_text(fan_pipeline(ctx.sizes.stage_s))
    repro = ctx.tool.repro(ctx.sandbox.env, jobs=4)
    ctx.time("W9-full", (repro, repo))
    ctx.time("W9-noop", (repro, repo))
    (repo / "in" / "w1.txt").write_text("w1 changed\n")
    ctx.time("W9-leaf", (repro, repo))


def many_stages(ctx: Ctx) -> None:
    repo = ctx.new_repo()
    (repo / "outs").mkdir()
    (repo / "seed.txt").write_text("seed\n")
    (repo / ctx.tool.flavor.pipeline_file).write_text(trivial_pipeline(ctx.sizes.n_trivial))
    repro = ctx.tool.repro(ctx.sandbox.env)
    ctx.time("W10-first", (repro, repo))
    ctx.time("W10-noop", (repro, repo))


SCENARIOS = (
    Scenario(
        "W9",
        (
            Step("W9-full", "fan-out/fan-in pipeline, full repro -j 4", ("repro",)),
            Step("W9-noop", "fan-out/fan-in pipeline, no-op repro", ("repro",)),
            Step("W9-leaf", "fan-out/fan-in pipeline, one leaf changed", ("repro",)),
        ),
        fan_in_out,
        ("init", "repro"),
    ),
    Scenario(
        "W10",
        (
            Step("W10-first", "trivial stages, first repro", ("repro",)),
            Step("W10-noop", "trivial stages, no-op repro", ("repro",)),
        ),
        many_stages,
        ("init", "repro"),
    ),
)
