"""Pipelines: stage add/remove, repro (plan, run, --pull), dag, params, metrics, plots."""
