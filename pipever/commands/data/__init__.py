"""Data in the workspace and the cache: add, commit, checkout, status, diff, move, remove, unprotect,
gc, fsck, check-ignore."""
