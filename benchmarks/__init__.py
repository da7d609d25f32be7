"""The benchmark suite (`make bench`): a generated repository of N records, and the runner that measures
validate, build, rebuilds and serving on it in fresh processes, with the peers on the same files (run.py)."""
