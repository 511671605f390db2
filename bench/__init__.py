"""Benchmarks: `make bench` (bench.run) and the in-process code-flow timer (code_flow.py)."""
