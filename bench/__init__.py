"""edc's benchmarks: each figure is a ratio against a baseline run in the same process tree.

Run them all with `make bench` (bench/run_all.sh); see bench/results.md for the last full run.
"""
