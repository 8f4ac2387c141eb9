"""Remotes: object storage reached through fsspec, laid out exactly like the cache.

``url`` maps a remote URL to an fsspec protocol and the pip extra that provides it, ``options``
turns config options into filesystem arguments (honouring only safe ones from the committed
config), ``base.Remote`` is one remote (existence checks, upload, verified download, delete),
``failures`` maps foreign exceptions to pipever errors, and ``transfer`` runs many object
transfers concurrently. fsspec and its backends are imported lazily, only here.
"""
