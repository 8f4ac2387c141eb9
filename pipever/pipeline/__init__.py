"""Pipelines: pv.yaml schema and templating, the stage graph, pv.lock, params, staleness."""
