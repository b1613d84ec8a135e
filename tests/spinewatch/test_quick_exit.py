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


def test_exit_now_joins_threads_runs_handlers_flushes_and_keeps_the_code(monkeypatch) -> None:
    """In-process, with ``os._exit`` and the exit handlers stood in for: what runs, in order."""
    import atexit
    import os
    import threading
    import time

    from spinewatch import cli

    seen: list[object] = []

    class Exited(Exception):
        pass

    def fake_exit(code: int) -> None:
        seen.append(("exit", code))
        raise Exited

    worker = threading.Thread(target=lambda: (time.sleep(0.05), seen.append("thread done")))
    worker.start()
    monkeypatch.setattr(atexit, "_run_exitfuncs", lambda: seen.append("handlers"))
    monkeypatch.setattr(os, "_exit", fake_exit)
    try:
        cli._exit_now(3)
    except Exited:
        pass
    assert seen == ["thread done", "handlers", ("exit", 3)]
