"""Experiments (``pv exp``): the pure parts — names, ``-S`` overrides, the run queue's records.

An experiment is a Git commit whose parent is the commit it was run from (its baseline),
holding the changed params files, ``pv.lock``, pointers and untracked-by-cache outputs, kept
under ``refs/exps/<name>``. The commands that create and read them are in ``pipever.commands.experiments``.
"""
