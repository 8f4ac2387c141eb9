"""Experiments: exp run/show/apply/branch/remove/push/pull on refs under ``refs/exps/``."""
