"""Artifact and stage names the registry accepts.

Names pv creates follow the brief's rule ``[a-z0-9-]`` (start and end with a letter or digit), a
subset of GTO's name rule, so that ``@``, ``#`` and ``!`` in a tag are never ambiguous. When
reading, GTO's wider names (with ``/`` inside, and a ``path=`` prefix for monorepos) are accepted
so that existing registries show up unchanged.
"""

from __future__ import annotations

import re

from pipever.errors import RegistryError

NAME = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
GTO_NAME = r"[a-z0-9](?:[a-z0-9/-]*[a-z0-9])?"
GTO_FULLNAME = r"(?:[a-z0-9_./-]+=)?" + GTO_NAME
_NAME_RE = re.compile(NAME)


def is_valid_name(value: str) -> bool:
    return bool(_NAME_RE.fullmatch(value))


def check_artifact_name(value: str) -> str:
    if not is_valid_name(value):
        raise RegistryError(
            f"invalid artifact name '{value}'",
            hint="use lowercase letters, digits and '-' (no '@', '#', '_' or spaces), e.g. 'churn-model'",
        )
    return value


def check_stage_name(value: str) -> str:
    if not is_valid_name(value):
        raise RegistryError(
            f"invalid stage name '{value}'",
            hint="use lowercase letters, digits and '-', e.g. 'prod' or 'staging'",
        )
    return value
