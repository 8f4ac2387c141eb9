"""The model registry: artifact versions and stages kept only in annotated Git tags (SPEC §10).

Tags use GTO's format, so a registry written by GTO (or DVC Studio) reads the same here and the
other way round:

==========================  ===========================================================
``NAME@vX.Y.Z``             register version vX.Y.Z at the tagged commit
``NAME@vX.Y.Z!#N``          deregister it (``pv model deprecate NAME vX.Y.Z``)
``NAME#STAGE#N``            assign STAGE to the version registered at the tagged commit
``NAME#STAGE!#N``           unassign STAGE from that version (written by rollback)
``NAME@deprecated#N``       deprecate the whole artifact (``pv model deprecate NAME``)
==========================  ===========================================================

``N`` is GTO's per-artifact counter: one more than the highest counter among the artifact's tags.
GTO leaves the counter out of deregister/deprecate tags by default (its "simple" form, also read
here); pv always writes it, so that events created within the same second keep their order.
The pure parts live here (``names``, ``semver``, ``tags``, ``state``, ``gates``); the verbs that read
and write tags are in ``pipever.commands.registry.model``.
"""
