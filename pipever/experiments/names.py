"""Experiment names: untrusted input that becomes one Git ref component (``refs/exps/<name>``).

Accepted names are a strict subset of what ``git check-ref-format`` allows for one component:
letters, digits, ``.``, ``_``, ``+`` and ``-``, starting with a letter or digit (so never ``-``,
which a later ``git`` call could read as an option), no ``..``, not ending in ``.`` or ``.lock``,
at most 100 characters. Names pv makes up are ``<adjective>-<noun>``, readable and short.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from pipever.errors import ExperimentError

REF_PREFIX = "refs/exps/"
MAX_LEN = 100
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")

ADJECTIVES = (
    "amber", "bold", "brisk", "calm", "clever", "crisp", "dapper", "eager", "fleet", "gentle", "glad", "grand",
    "happy", "hardy", "jolly", "keen", "lively", "lucid", "merry", "mild", "nimble", "noble", "plucky", "proud",
    "quick", "quiet", "rapid", "sharp", "shiny", "snappy", "steady", "sunny", "swift", "tidy", "vivid", "witty",
)
NOUNS = (
    "alder", "badger", "birch", "bison", "cedar", "comet", "crane", "delta", "falcon", "fern", "finch", "fjord",
    "heron", "ibex", "lark", "lynx", "maple", "marten", "moose", "otter", "owl", "panda", "pike", "quail",
    "raven", "robin", "sable", "spruce", "stoat", "swan", "tapir", "tern", "vole", "walrus", "willow", "yak",
)


def is_valid_name(name: str) -> bool:
    return (
        len(name) <= MAX_LEN
        and _NAME_RE.fullmatch(name) is not None
        and ".." not in name
        and not name.endswith((".", ".lock"))
    )


def check_name(name: str) -> str:
    """``name`` if it is a valid experiment name, else ExperimentError saying what is allowed."""
    if not is_valid_name(name):
        raise ExperimentError(
            f"invalid experiment name '{name}'",
            hint="use letters, digits, '.', '_', '+' and '-', starting with a letter or digit "
                 "(no '/', '..' or spaces), e.g. 'lr-0.1'",
        )
    return name


def ref_of(name: str) -> str:
    return REF_PREFIX + check_name(name)


def generate_name(taken: Callable[[str], bool], rng: random.Random | None = None) -> str:
    """A readable name (``swift-otter``) for which ``taken`` is False; a numeric suffix is added
    when random pairs keep colliding."""
    pick = rng or random.Random()
    name = ""
    for _ in range(50):
        name = f"{pick.choice(ADJECTIVES)}-{pick.choice(NOUNS)}"
        if not taken(name):
            return name
    n = 2
    while taken(f"{name}-{n}"):
        n += 1
    return f"{name}-{n}"
