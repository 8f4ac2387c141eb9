"""Data workloads W1–W8 and start-up W11, as scenarios for the runner.

Each body builds its repo untimed, then times only the command the workload is about. Commands
are spelled the same for both tools except where ``Flavor`` says otherwise.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks import datagen
from benchmarks.scenario import Ctx, Scenario, Step
from benchmarks.tools import PV


def add_big_file(ctx: Ctx) -> None:
    repo = ctx.new_repo()
    datagen.write_big_file(repo / "big.bin", ctx.sizes.big_file, seed=1)
    ctx.time("W1", (ctx.tool.argv("add", "big.bin"), repo))


def push_big_file(ctx: Ctx) -> None:
    """W1-push: the W1 file pushed to a local-folder remote in pv's default packed layout (big
    files chunked) and to one with ``layout: loose``; their ratio. DVC has one layout: its push
    is timed as W1-push."""
    repo = ctx.new_repo()
    datagen.write_big_file(repo / "big.bin", ctx.sizes.big_file, seed=1)
    ctx.run_tool("add", "big.bin", cwd=repo)
    for name in ("packed", "loose"):
        (ctx.root / f"remote-{name}").mkdir()
        ctx.run_tool("remote", "add", name, str(ctx.root / f"remote-{name}"), cwd=repo)
    if ctx.tool.flavor is not PV:
        ctx.time("W1-push", (ctx.tool.argv("push", "-r", "packed"), repo))
        for step_id in ("W1-push-loose", "W1-push-ratio"):
            ctx.reached.add(step_id)
            ctx.outcome(step_id).skipped = f"skipped: {ctx.tool.name} has one remote layout"
        return
    ctx.run_tool("remote", "modify", "loose", "layout", "loose", cwd=repo)
    order = [("W1-push", "packed"), ("W1-push-loose", "loose")]
    if len(ctx.outcome("W1-push").values) % 2:  # alternate which goes first
        order.reverse()
    for step_id, name in order:
        ctx.time(step_id, (ctx.tool.argv("push", "-r", name), repo))
    packed, loose = ctx.outcome("W1-push").values[-1], ctx.outcome("W1-push-loose").values[-1]
    ctx.record("W1-push-ratio", packed / loose)


def _repo_with_tree(ctx: Ctx, n_files: int) -> tuple[Path, list[datagen.TreeFile]]:
    repo = ctx.new_repo()
    layout = datagen.tree_layout(n_files, seed=2)
    datagen.write_tree(repo / "data", layout, seed=2)
    return repo, layout


def directory_lifecycle(ctx: Ctx) -> None:
    """W2 add a tree, W3 clean status, W4 status after edits, W5 checkout of a deleted tree."""
    repo, layout = _repo_with_tree(ctx, ctx.sizes.n_files)
    tool = ctx.tool
    ctx.time("W2", (tool.argv("add", "data"), repo))
    ctx.time("W3", (tool.argv("status"), repo))
    datagen.change_files(repo / "data", layout, ctx.sizes.n_changed, seed=3)
    ctx.time("W4", (tool.argv("status"), repo))
    # the directory is gone from the work tree: moved out (its files are removed with the temp
    # dir at the end of the run; see ``Runner.cleanup`` for why not now)
    (repo / "data").rename(ctx.root / "data-removed")
    ctx.time("W5", (tool.argv("checkout"), repo))


STEP_IDS = {"local": ("W6", "W6-noop", "W6-incr", "W8-local"), "s3": ("W7", "W7-noop", "W7-incr", "W8-s3")}


def _push_and_clone(ctx: Ctx, kind: str, url: str) -> None:
    """Push the tree to ``url`` twice (W6/W7), then ``git clone`` + ``pull`` (W8)."""
    push_id, noop_id, incr_id, clone_id = STEP_IDS[kind]
    repo, layout = _repo_with_tree(ctx, ctx.sizes.s3_files if kind == "s3" else ctx.sizes.n_files)
    tool = ctx.tool
    ctx.run_tool("add", "data", cwd=repo)
    ctx.run_tool("remote", "add", "-d", kind, url, cwd=repo)
    if kind == "s3":
        option = tool.flavor.endpoint_option
        ctx.run_tool("remote", "modify", kind, option, ctx.s3_endpoint, cwd=repo)
    ctx.time(push_id, (tool.argv("push", "-r", kind), repo))
    ctx.time(noop_id, (tool.argv("push", "-r", kind), repo))
    datagen.change_files(repo / "data", layout, ctx.sizes.n_changed, seed=5)
    ctx.run_tool("add", "data", cwd=repo)
    ctx.time(incr_id, (tool.argv("push", "-r", kind), repo))
    if not ctx.can(clone_id):
        return
    ctx.setup(["git", "add", "-A"], cwd=repo)
    ctx.setup(["git", "commit", "-q", "-m", "bench data"], cwd=repo)
    clone = ctx.root / "clone"
    ctx.time(
        clone_id,
        (["git", "clone", "-q", str(repo), str(clone)], ctx.root),
        (tool.argv("pull"), clone),
    )


def push_local(ctx: Ctx) -> None:
    remote = ctx.root / "remote"
    remote.mkdir()
    _push_and_clone(ctx, "local", str(remote))


def push_s3(ctx: Ctx) -> None:
    if ctx.s3_url is None:
        raise RuntimeError("no S3 server")
    _push_and_clone(ctx, "s3", ctx.s3_url())


def startup(ctx: Ctx) -> None:
    """W11: ``--version`` and ``status`` in a repo tracking one small file."""
    repo = ctx.new_repo()
    (repo / "small.txt").write_text("hello\n")
    ctx.run_tool("add", "small.txt", cwd=repo)
    repeat = ctx.sizes.startup_reps
    ctx.time("W11-version", (ctx.tool.argv("--version"), repo), repeat=repeat)
    ctx.time("W11-status", (ctx.tool.argv("status"), repo), repeat=repeat)


PUSH = ("remote", "push")
SCENARIOS = (
    Scenario("W1", (Step("W1", "add one large file", ("add",)),), add_big_file, ("init", "add")),
    Scenario(
        "W1-push",
        (
            Step("W1-push", "push the large file, local remote, packed layout (chunks)", PUSH),
            Step("W1-push-loose", "push the large file, local remote, `layout: loose`", PUSH),
            Step("W1-push-ratio", "push of the large file: packed / loose", PUSH, unit="×"),
        ),
        push_big_file,
        ("init", "add", *PUSH),
    ),
    Scenario(
        "W2-W5",
        (
            Step("W2", "add a directory of small files", ("add",)),
            Step("W3", "status, nothing changed", ("status",)),
            Step("W4", "status, some files changed", ("status",)),
            Step("W5", "checkout the deleted directory", ("checkout",)),
        ),
        directory_lifecycle,
        ("init", "add"),
        many_files=True,
    ),
    Scenario(
        "W6+W8 local",
        (
            Step("W6", "push to a local-folder remote", PUSH),
            Step("W6-noop", "no-op push, local remote", PUSH),
            Step("W6-incr", "push after 10 files changed, local remote", PUSH),
            Step("W8-local", "git clone + pull, local remote", (*PUSH, "pull")),
        ),
        push_local,
        ("init", "add", "remote"),
        many_files=True,
    ),
    Scenario(
        "W7+W8 s3",
        (
            Step("W7", "push to S3 (moto)", PUSH, counts_requests=True),
            Step("W7-noop", "no-op push, S3", PUSH, counts_requests=True),
            Step("W7-incr", "push after 10 files changed, S3", PUSH, counts_requests=True),
            Step("W8-s3", "git clone + pull, S3", (*PUSH, "pull"), counts_requests=True),
        ),
        push_s3,
        ("init", "add", "remote"),
        max_reps=1,  # moto serves ~60 requests/s: one round of 20,000 objects takes minutes
        needs_s3=True,
        many_files=True,
    ),
    Scenario(
        "W11",
        (Step("W11-version", "`--version`"), Step("W11-status", "status, small repo", ("status",))),
        startup,
        ("init", "add"),
    ),
)
