"""What several commands share, below the commands: tracked outs and their state, saving into the
cache, the objects a scope uses, stages with their state and records, ``pv.lock`` I/O, remote access,
revision snapshots, progress, safe deletion and writable copies. Nothing here imports a command."""
