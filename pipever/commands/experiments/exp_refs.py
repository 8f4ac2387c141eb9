"""Experiments as Git refs: list them, find one by name, ``pv exp branch``, ``pv exp remove``,
``pv exp push`` and ``pv exp pull``.

Push and pull move the ``refs/exps/<name>`` refs with Git and the data the experiments need
(their pointers' and ``pv.lock``'s objects) with the default pv remote, reusing ``pv push`` and
``pv fetch`` for those commits. Without a pv remote only the refs move, with a warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pipever.errors import ExperimentError, RemoteNotFoundError
from pipever.experiments import names
from pipever.context import RepoContext


@dataclass(frozen=True)
class Experiment:
    name: str
    sha: str
    baseline: str  # the parent commit it was run from
    time: int  # seconds since the epoch (its commit's date)


def list_experiments(repo: RepoContext) -> list[Experiment]:
    if not repo.scm:
        return []
    found = []
    for ref in repo.git.list_refs(names.REF_PREFIX):
        name = ref.name[len(names.REF_PREFIX):]
        found.append(Experiment(name, ref.sha, ref.parents[0] if ref.parents else "", ref.time))
    return found


def find(repo: RepoContext, name: str) -> Experiment:
    """The experiment called ``name``; ExperimentError when there is none."""
    names.check_name(name)
    for exp in list_experiments(repo):
        if exp.name == name:
            return exp
    raise ExperimentError(f"experiment '{name}' does not exist", hint="see 'pv exp show'")


def branch(repo: RepoContext, name: str, branch_name: str) -> Experiment:
    """Create Git branch ``branch_name`` at the experiment's commit."""
    exp = find(repo, name)
    if not repo.git.valid_branch_name(branch_name):
        raise ExperimentError(f"'{branch_name}' is not a valid branch name", hint="see 'git check-ref-format --help'")
    if repo.git.branch_exists(branch_name):
        raise ExperimentError(f"branch '{branch_name}' already exists", hint="choose another branch name")
    repo.git.create_branch(branch_name, exp.sha)
    return exp


@dataclass
class RemoveResult:
    removed: list[str] = field(default_factory=list)
    unqueued: list[str] = field(default_factory=list)


def remove(repo: RepoContext, targets: Sequence[str], *, remove_all: bool = False, queued: bool = False) -> RemoveResult:
    """Delete experiments (their refs) and queued runs by name; nothing is deleted when one name
    is unknown. ``remove_all`` removes every experiment, ``queued`` every queued run."""
    from pipever.commands.experiments.exp_run import queue_of
    from pipever.commands.experiments.exp_worktree import remove_leftovers

    result = RemoveResult()
    with repo.locked():
        remove_leftovers(repo)
        existing = {e.name: e for e in list_experiments(repo)}
        q = queue_of(repo)
        waiting = q.entries()
        wanted = list(dict.fromkeys(targets))
        for name in wanted:
            names.check_name(name)
            if name not in existing and not any(s.name == name for s in waiting):
                raise ExperimentError(f"experiment '{name}' does not exist", hint="see 'pv exp show'")
        refs = sorted(existing) if remove_all else [n for n in wanted if n in existing]
        for name in refs:
            repo.git.delete_ref(names.REF_PREFIX + name)
            result.removed.append(name)
        for spec in waiting:
            if queued or spec.name in wanted:
                q.remove(spec.id)
                result.unqueued.append(spec.name)
    return result


@dataclass
class TransferResult:
    names: list[str]
    objects: int = 0  # pv objects pushed or fetched
    data_remote: str | None = None  # None: no pv remote, only the Git refs moved
    warnings: list[str] = field(default_factory=list)


def _check_git_remote(repo: RepoContext, remote: str) -> None:
    if not repo.scm or not repo.git.has_remote(remote):
        raise ExperimentError(f"Git remote '{remote}' does not exist",
                              hint="see 'git remote -v'; add one with 'git remote add NAME URL'")


def push(repo: RepoContext, remote: str, exp_names: Sequence[str], *, pv_remote: str | None = None,
         jobs: int | None = None) -> TransferResult:
    """Push the experiments' data to the pv remote, then their refs to Git remote ``remote``
    (data first: a ref others can fetch always has its data)."""
    from pipever.commands.remotes.push import push as push_data

    _check_git_remote(repo, remote)
    exps = [find(repo, n) for n in dict.fromkeys(exp_names)]
    result = TransferResult([e.name for e in exps])
    with repo.locked():
        try:
            res = push_data(repo, revs=[e.sha for e in exps], workspace=False, remote=pv_remote, jobs=jobs)
            result.objects, result.data_remote = res.pushed, ", ".join(res.remotes) or None
            result.warnings += res.warnings + [f"{len(m)} object(s) are not in the cache, not pushed: {', '.join(m[:5])}"
                                               for m in res.missing.values() if m]
        except RemoteNotFoundError:
            if pv_remote is not None:
                raise
            result.warnings.append("no default pv remote: only the Git refs were pushed, not the data "
                                   "(set one with 'pv remote add -d NAME URL')")
        repo.git.push_refs(remote, [f"{names.REF_PREFIX}{e.name}:{names.REF_PREFIX}{e.name}" for e in exps])
    return result


def pull(repo: RepoContext, remote: str, exp_names: Sequence[str], *, pv_remote: str | None = None,
         jobs: int | None = None) -> TransferResult:
    """Fetch the experiments' refs from Git remote ``remote``, then their data from the pv remote."""
    from pipever.commands.remotes.fetch import fetch as fetch_data

    _check_git_remote(repo, remote)
    wanted = [names.check_name(n) for n in dict.fromkeys(exp_names)]
    result = TransferResult(wanted)
    with repo.locked():
        there = repo.git.remote_refs(remote, names.REF_PREFIX + "*")
        for name in wanted:
            if names.REF_PREFIX + name not in there:
                raise ExperimentError(f"experiment '{name}' does not exist on Git remote '{remote}'",
                                      hint=f"see 'git ls-remote {remote} refs/exps/*'")
        repo.git.fetch_refs(remote, [f"{names.REF_PREFIX}{n}:{names.REF_PREFIX}{n}" for n in wanted])
        shas = [find(repo, n).sha for n in wanted]
        try:
            res = fetch_data(repo, revs=shas, workspace=False, remote=pv_remote, jobs=jobs)
            result.objects, result.data_remote = res.fetched, ", ".join(res.remotes) or None
            result.warnings += res.warnings + [f"{len(m)} object(s) are not on '{r}': {', '.join(m[:5])}"
                                               for r, m in res.missing.items() if m]
        except RemoteNotFoundError:
            if pv_remote is not None:
                raise
            result.warnings.append("no default pv remote: only the Git refs were fetched, not the data "
                                   "(set one with 'pv remote add -d NAME URL')")
    return result
