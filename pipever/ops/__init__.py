"""One module per verb: ``verb(repo, *, ...) -> Result``. Ops never print and never prompt."""
