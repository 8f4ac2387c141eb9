"""pipever's benchmark runner: ``python -m benchmarks [--quick] [--compare dvc]``."""
