"""Benchmark scripts: each measures one area and writes docs/benchmarks/<area>.md."""
