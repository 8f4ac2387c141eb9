"""``pv exp list``, ``exp rename``, ``exp clean``, ``exp save`` and ``exp diff``: the everyday
experiment verbs beside run/show/apply, as DVC has them.

* list: experiment names grouped by the commit they ran from (HEAD's by default, ``all_commits``
  for every baseline).
* rename: moves ``refs/exps/OLD`` to ``refs/exps/NEW`` (the commit is kept, so is its data).
* clean: removes what killed runs left (temporary worktrees) and Git's records of them.
* save: records the workspace as an experiment of HEAD without touching the branch, the index or
  the files: ``pv commit`` first (so pointers and ``pv.lock`` hold the workspace's data), then a
  commit built in a scratch index from HEAD, the changes to tracked files, pv's files and
  ``include_untracked`` paths.
* diff: params and metrics that differ between two experiments or revisions (default: HEAD and
  the workspace), with the numeric change.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pipever.errors import ExperimentError
from pipever.experiments import names
from pipever.commands.experiments.exp_refs import Experiment, find, list_experiments
from pipever.services.snapshot import WORKSPACE, Rev
from pipever.pipeline.params import MISSING, flatten
from pipever.context import RepoContext


# -- list ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExpGroup:
    baseline: str  # the commit
    label: str  # the branch name for HEAD's commit, else the short sha
    experiments: tuple[Experiment, ...]


def exp_list(repo: RepoContext, *, all_commits: bool = False, rev: str | None = None) -> list[ExpGroup]:
    """Experiments by baseline: of ``rev`` (default HEAD), or of every commit."""
    from pipever.commands.experiments.exp_run import require_commit

    head = require_commit(repo)
    want = repo.git.resolve(rev) if rev is not None else head
    groups: dict[str, list[Experiment]] = {}
    for exp in sorted(list_experiments(repo), key=lambda e: (e.time, e.name)):
        if all_commits or exp.baseline == want:
            groups.setdefault(exp.baseline, []).append(exp)
    if not all_commits:
        groups.setdefault(want, [])
    branch = repo.git.current_branch()
    label = {head: branch} if branch else {}
    if rev is not None and want != head:
        label[want] = rev
    return [ExpGroup(b, label.get(b, b[:7]), tuple(exps)) for b, exps in groups.items()]


# -- rename / clean ------------------------------------------------------------------------------
def exp_rename(repo: RepoContext, old: str, new: str) -> Experiment:
    names.check_name(new)
    with repo.locked():
        exp = find(repo, old)
        if repo.git.ref_sha(names.ref_of(new)) is not None:
            raise ExperimentError(f"experiment '{new}' already exists", hint="choose another name, or remove it first")
        repo.git.create_ref(names.ref_of(new), exp.sha, f"pv exp rename {old} {new}")
        repo.git.delete_ref(names.ref_of(old))
    return exp


def exp_clean(repo: RepoContext) -> int:
    """Remove leftovers of killed runs; how many temporary worktrees went."""
    from pipever.commands.experiments.exp_worktree import remove_leftovers

    with repo.locked():
        removed = remove_leftovers(repo)
        if repo.scm:
            repo.git.run("worktree", "prune")
    return removed


# -- save ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SaveResult:
    name: str
    sha: str
    baseline: str


def exp_save(repo: RepoContext, *, name: str | None = None, force: bool = False,
             include_untracked: Sequence[str] = (), message: str | None = None) -> SaveResult:
    from pipever.services import tracked as trk
    from pipever.commands.data.commit import commit
    from pipever.commands.experiments.exp_run import name_taken, require_commit

    baseline = require_commit(repo)
    if name is not None:
        names.check_name(name)
        if name_taken(repo, name) and not force:
            raise ExperimentError(f"experiment '{name}' already exists",
                                  hint="choose another name with -n, or replace it with --force")
    else:
        name = names.generate_name(lambda n: name_taken(repo, n))
    commit(repo, [], force=True)  # pointers and pv.lock record the workspace's data (in the cache)
    with repo.locked():
        new_ignores = repo.git.run("ls-files", "-z", "--others", "--exclude-standard", "--", ":(glob)**/.gitignore")
        own = [p for p in [*trk.pointer_files(repo), "pv.lock", "pv.yaml", *new_ignores.decode().split("\0")]
               if p and (repo.root / p).exists()]
        extra = [p for p in include_untracked if (repo.root / p).exists()]
        missing = sorted(set(include_untracked) - set(extra))
        if missing:
            raise ExperimentError(f"'{missing[0]}' does not exist", hint="name files of the workspace")
        ignored = set(repo.git.run("check-ignore", "--no-index", "--", *own, check=False).decode().split()) if own else set()
        scratch = repo.tmp_dir / f"exp-save-{name}.index"
        tree = repo.git.workspace_tree([p for p in own if p not in ignored] + extra, scratch)
        sha = repo.git.commit_tree(tree, baseline, message or f"pv exp save: {name}\n")
        ref = names.ref_of(name)
        if repo.git.ref_sha(ref) is not None:
            repo.git.delete_ref(ref)
        repo.git.create_ref(ref, sha, "pv exp save")
    return SaveResult(name, sha, baseline)


# -- diff ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    kind: str  # 'params' or 'metrics'
    file: str
    key: str
    old: Any
    new: Any

    @property
    def diff(self) -> float | None:
        if isinstance(self.old, bool) or isinstance(self.new, bool):
            return None
        if isinstance(self.old, (int, float)) and isinstance(self.new, (int, float)):
            d = self.new - self.old
            return None if isinstance(d, float) and math.isnan(d) else d
        return None


@dataclass
class DiffResult:
    a: str
    b: str
    changes: list[Change] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """DVC's ``exp diff --json`` shape: kind -> file -> key -> {old, new, diff}."""
        out: dict[str, Any] = {"params": {}, "metrics": {}}
        for c in self.changes:
            entry: dict[str, Any] = {"old": None if c.old is MISSING else c.old, "new": None if c.new is MISSING else c.new}
            if c.diff is not None:
                entry["diff"] = c.diff
            out[c.kind].setdefault(c.file, {})[c.key] = entry
        return out


def _rev(repo: RepoContext, text: str) -> Rev:
    if text == WORKSPACE:
        return Rev(WORKSPACE)
    if names.is_valid_name(text) and repo.git.ref_sha(names.REF_PREFIX + text) is not None:
        return Rev(text, repo.git.ref_sha(names.REF_PREFIX + text))
    sha = repo.git.run("rev-parse", "-q", "--verify", "--end-of-options", f"{text}^{{commit}}", check=False).decode().strip()
    if not sha:
        raise ExperimentError(f"'{text}' is neither an experiment nor a commit", hint="see 'pv exp list' or 'git log'")
    return Rev(text, sha)


def exp_diff(repo: RepoContext, a: str | None = None, b: str | None = None, *, show_all: bool = False) -> DiffResult:
    """Params and metrics of ``a`` (default HEAD) against ``b`` (default: the workspace)."""
    from pipever.commands.experiments.exp_run import require_commit
    from pipever.commands.experiments.exp_show import read_values

    require_commit(repo)
    ra, rb = _rev(repo, a or "HEAD"), _rev(repo, b or WORKSPACE)
    pa, ma, _ = read_values(repo, ra)
    pb, mb, _ = read_values(repo, rb)
    result = DiffResult(ra.name, rb.name)
    for kind, old, new in (("metrics", ma, mb), ("params", pa, pb)):
        for file in sorted(set(old) | set(new)):
            fo, fn = flatten(old.get(file, {})), flatten(new.get(file, {}))
            for key in sorted(set(fo) | set(fn)):
                vo, vn = fo.get(key, MISSING), fn.get(key, MISSING)
                if show_all or vo != vn:
                    result.changes.append(Change(kind, file, key, vo, vn))
    return result
