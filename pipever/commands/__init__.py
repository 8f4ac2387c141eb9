"""The commands: one package per domain users think in, one module per verb. A command takes a
``RepoContext`` and explicit keyword arguments, returns a dataclass, and never prints or prompts;
it may use ``pipever.services`` and the layers below, never the CLI or ``pipever.Repo``."""
