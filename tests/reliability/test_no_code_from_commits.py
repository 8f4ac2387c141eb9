"""No code from a commit runs, except stage commands under ``pv repro`` (issue 6, guarantee 4).

YAML is loaded with a safe loader (Python tags are an error), duplicate keys are an error (a
reviewer sees one value, pv would use another), and remote options that can run programs or
weaken security are honoured only from the local or global config: from the committed config
they are ignored with a warning, and the remote still works without them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipever.objects.hashing import hash_bytes
from tests.helpers import PvRunner, Result, gen, git_commit

X_OID = str(hash_bytes(b"x\n"))


def tag_payloads(canary: Path) -> list[str]:
    cmd = f"touch {canary}"
    return [
        f'!!python/object/apply:os.system ["{cmd}"]',
        f'!!python/object/apply:subprocess.call [["touch", "{canary}"]]',
        f'!!python/object/new:subprocess.Popen [["touch", "{canary}"]]',
        '!!python/name:os.system',
        '!!python/module:os',
        f'!!python/object:os.system {{"{cmd}": 1}}',
    ]


# where a commit can put YAML, the text around the payload, and a command that parses it
YAML_FILES = {
    "x.pv": ("outs:\n- path: x\n  oid: {payload}\n", [("status",), ("checkout",), ("push",)]),
    "pv.yaml": ("stages:\n  s:\n    cmd: {payload}\n", [("status",), ("repro",), ("dag",)]),
    "pv.lock": ("schema: '1'\nstages:\n  s:\n    cmd: {payload}\n", [("status",), ("checkout",), ("push",)]),
    "params.yaml": ("seed: {payload}\n", [("status",), ("repro",), ("params", "diff")]),
    ".pv/config.yaml": ("core:\n  remote: {payload}\n", [("status",), ("push",), ("remote", "list")]),
    "metrics.json.yaml": ("acc: {payload}\n", [("metrics", "show")]),
}


def refused(res: Result, name: str) -> bool:
    """An error; for a metrics file (which ``metrics show`` skips, as DVC does) a warning naming it."""
    if name.startswith("metrics"):
        return res.exit_code in (0, 1) and f"{name}:" in res.stderr and "invalid YAML" in res.stderr
    return res.exit_code == 1 and res.stderr.startswith("ERROR: ")


@pytest.fixture
def tracked(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> Path:
    gen({"x": "x\n"})
    pv.ok("add", "x")
    pv.ok("remote", "add", "-d", "storage", str(tmp_path / "remote"))
    gen({"pv.yaml": "stages:\n  s:\n    cmd: touch out\n    deps: [x]\n    params: [seed]\n    outs: [out]\n"
                    "metrics: [metrics.json.yaml]\n",
         "params.yaml": "seed: 1\n", "metrics.json.yaml": "acc: 1\n"})
    git_commit("baseline")
    return pv_repo


@pytest.mark.parametrize("name", list(YAML_FILES))
def test_python_yaml_tags_are_rejected_and_never_run(tracked: Path, pv: PvRunner, tmp_path: Path, name: str) -> None:
    canary = tmp_path / "pwned"
    template, commands = YAML_FILES[name]
    for payload in tag_payloads(canary):
        original = (tracked / name).read_text() if (tracked / name).exists() else None
        (tracked / name).write_text(template.format(payload=payload))
        for args in commands:
            res = pv(*args)
            assert refused(res, name), (name, payload, args, res)
            assert "Traceback" not in res.stderr
            assert not canary.exists(), (name, payload, args)
        if original is not None:
            (tracked / name).write_text(original)
    assert not (tracked / "out").exists()


@pytest.mark.parametrize("name", list(YAML_FILES))
def test_duplicate_keys_are_an_error_naming_the_line(tracked: Path, pv: PvRunner, name: str) -> None:
    dup = {
        "x.pv": f"outs:\n- path: x\n  oid: {X_OID}\n  path: .git/hooks/post-checkout\n",
        "pv.yaml": "stages:\n  s:\n    cmd: touch out\n    cmd: touch pwned\n",
        "pv.lock": "schema: '1'\nschema: '1'\nstages: {}\n",
        "params.yaml": "seed: 1\nseed: 2\n",
        ".pv/config.yaml": "core:\n  remote: storage\ncore:\n  autostage: false\n",
        "metrics.json.yaml": "acc: 1\nacc: 2\n",
    }[name]
    (tracked / name).write_text(dup)
    for args in YAML_FILES[name][1]:
        res = pv(*args)
        assert refused(res, name), (name, args, res)
        assert "duplicate key" in res.stderr and (f"{name}:" in res.stderr or "line " in res.stderr), (name, args, res)
    assert not (tracked / "pwned").exists() and not (tracked / "out").exists()


def test_stage_commands_run_only_under_repro(tracked: Path, pv: PvRunner) -> None:
    gen({"pv.yaml": "stages:\n  s:\n    cmd: touch ran && touch out\n    deps: [x]\n    outs: [out]\n"})
    git_commit("a stage")
    for args in [("status",), ("dag",), ("stage", "list"), ("checkout",), ("commit",), ("push",), ("fetch",),
                 ("pull",), ("params", "diff"), ("metrics", "show"), ("diff",), ("gc", "-w", "-f"),
                 ("repro", "--dry"), ("fsck",)]:
        pv(*args)
        assert not (tracked / "ran").exists(), args
    pv.ok("repro")
    assert (tracked / "ran").exists()  # the control: repro does run it


# -- remote options from the committed config -------------------------------------------------------
def test_committed_proxy_command_is_ignored_and_the_local_one_honoured(pv_repo: Path, pv: PvRunner, tmp_path: Path) -> None:
    """An SSH remote to a closed port: with a proxy command the connection would go through it."""
    canary = tmp_path / "proxy-ran"
    gen({"x": "x\n"})
    pv.ok("add", "x")
    (pv_repo / ".pv/config.yaml").write_text(
        "core:\n  remote: ssh\nremote:\n  ssh:\n    url: ssh://nobody@127.0.0.1:1/storage\n    connect_timeout: 2\n"
        f"    proxy_command: touch {canary}\n    known_hosts: /dev/null\n    client_keys: [{tmp_path}/key]\n"
    )
    git_commit("ssh remote with a proxy command")
    res = pv("push")
    assert res.exit_code == 1 and "cannot reach remote 'ssh'" in res.stderr
    assert not canary.exists()
    # the same option from the git-ignored local config is the user's own choice: honoured
    pv.ok("remote", "modify", "--local", "ssh", "proxy_command", f"touch {canary}")
    pv("push")
    assert canary.exists()


@pytest.mark.s3
def test_remote_still_works_without_the_ignored_committed_options(
    pv_repo: Path, pv: PvRunner, tmp_path: Path, s3_server: object, aws_env: None,
) -> None:
    from tests.s3server import s3_case

    case = s3_case(s3_server)  # type: ignore[arg-type]
    gen({"x": "x\n"})
    pv.ok("add", "x")
    case.configure(pv, "s3")
    config = pv_repo / ".pv/config.yaml"
    config.write_text(
        f"core:\n  remote: s3\nremote:\n  s3:\n    url: {case.url}\n    proxy_command: touch {tmp_path}/ran\n"
        "    use_ssl: true\n    ssl_verify: false\n    client_kwargs: {endpoint_url: 'http://127.0.0.1:9'}\n"
    )
    git_commit("unsafe s3 options")
    res = pv("push")
    assert res.exit_code == 0, res
    assert "ignored" in res.stderr and "1 file pushed" in res.stdout
    assert len(case.stored()) == 1 and not (tmp_path / "ran").exists()
