"""The archive commands register without importing pyarrow, DuckDB or Dask (CLI start-up)."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import argparse, sys
from spinewatch.commands import archive, fleet, reanalyze
sub = argparse.ArgumentParser().add_subparsers()
for m in (archive, fleet, reanalyze):
    m.register(sub)
print(sorted(k for k in ("pyarrow", "duckdb", "dask", "distributed", "polars") if k in sys.modules))
"""


def test_commands_register_without_heavy_imports() -> None:
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
