"""``spinewatch analyze`` leaves without the interpreter's teardown, but as a normal exit would:
its output printed (also into a pipe), exit handlers run, the exit code kept."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.wearer import SimResult

# The installed command's own entry: main() with no arguments reads sys.argv.
PROBE = """
import atexit, sys
atexit.register(lambda: print("exit handler ran", flush=True))
from spinewatch.cli import main
sys.argv = ["spinewatch", *sys.argv[1:]]
sys.exit(main())
"""


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=False
    )


def test_analyze_prints_runs_exit_handlers_and_keeps_the_code(
    tmp_path: Path, sim_session: Callable[..., SimResult]
) -> None:
    from posture.rawcsv import write_raw_csv

    raw, out = tmp_path / "raw.csv", tmp_path / "a.csv"
    write_raw_csv(raw, sim_session("deadlift-set").raw)
    done = run("analyze", str(raw), "-o", str(out))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "samples" in lines[0] and str(out) in lines[0]  # flushed into the pipe
    assert lines[-1] == "exit handler ran"
    assert out.read_text().startswith("time_s,")

    failed = run("analyze", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "b.csv"))
    assert failed.returncode == 2
    assert "file not found" in failed.stderr
    assert failed.stdout.strip() == "exit handler ran"
