"""One module per command: an Options dataclass and ``run(opts, factory) -> exit code``."""
