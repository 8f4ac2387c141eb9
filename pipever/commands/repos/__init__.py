"""Other pv repositories: ls, get, import, update."""
