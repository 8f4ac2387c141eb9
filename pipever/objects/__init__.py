"""Content-addressed core: oids, hashing, manifests, the object database, the state db.

Nothing here knows about Git, YAML, the CLI or remotes.
"""
