"""The model registry: artifact versions and stages kept only in annotated Git tags (SPEC §10).

Tags use GTO's format, so a registry written by GTO (or DVC Studio) reads the same here and the
other way round:

==========================  ===========================================================
``NAME@vX.Y.Z``             register version vX.Y.Z at the tagged commit
``NAME@vX.Y.Z!``            deregister it (``pv model deprecate NAME vX.Y.Z``)
``NAME#STAGE#N``            assign STAGE to the version registered at the tagged commit
``NAME#STAGE!#N``           unassign STAGE from that version (written by rollback)
``NAME@deprecated``         deprecate the whole artifact (``pv model deprecate NAME``)
==========================  ===========================================================

``N`` is GTO's per-artifact counter: one more than the highest counter among the artifact's tags.
The pure parts live here (``names``, ``semver``, ``tags``, ``state``, ``gates``); the verbs that read
and write tags are in ``pipever.ops.model``.
"""
