"""Pointer files (*.pv), .gitignore edits and .pvignore matching."""
