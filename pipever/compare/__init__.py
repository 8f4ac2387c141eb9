"""Comparing results across revisions: metrics values and diffs, plot data, Vega-Lite specs, the
SVG and HTML of the plots report. Pure functions over parsed data; no Git, files or CLI here."""
