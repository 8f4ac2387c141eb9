"""Running stages somewhere else than this process: the ``--executor`` seam of ``pv repro``.

``local`` (the default) runs stage commands as processes here (``pipeline.runner.Runner``). A Dask
scheduler address (``tcp://host:8786``, ``tls://...``) hands each stage to a worker of that cluster
(``dask_runner.DaskRunner``): the driver (here) keeps deciding staleness and writing ``pv.lock``;
workers get the stage's file tree by oid through the default remote and send the outputs back the
same way. Both runners speak the same event protocol (``Line``/``Finished``), so ``repro_run``'s
schedule is the same for both.

Modules: ``settings`` (where the address comes from), ``task`` (what travels to a worker and
back), ``snapshot`` (the workspace's Git-tracked files as a tree object), ``objects`` (moving
objects by oid), ``worker`` (the function a worker runs), ``dask_runner`` (the driver side).
"""

from __future__ import annotations

LOCAL = "local"
