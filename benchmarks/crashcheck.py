"""The crash-safety check shared by the test and the benchmark: record, ``kill -9``, inspect.

One trial starts ``spinewatch record --simulate`` in a subprocess at real-time pace, kills it
with SIGKILL after a given time, then opens the file the way a user would and measures:
whether SQLite's integrity check passes, whether every stored block unpacks and the sequence
numbers run without holes, whether the session reads as *interrupted*, and how much stream
time was lost — the stream time the real-time source had reached at the kill, minus the last
stored sample time. The reached time is extrapolated from the recorder's "streaming" line
(stream time of its first data and the host monotonic clock then, which all processes share);
a source delivers a little after a sample is due, so this over-estimates the reached time
and the loss: the check errs on the strict side. It works for any real-time source.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from posture.records import ImuBlock
from spinewatch.sessions.reader import SessionFile
from spinewatch.sessions.store import SessionStatus


@dataclass(frozen=True)
class CrashTrial:
    """What one killed recording left behind."""

    killed_after_s: float
    integrity: str  # PRAGMA integrity_check result ("ok")
    status: SessionStatus
    blocks: int
    consistent: bool  # every block unpacks; sequence numbers contiguous per role
    reached_s: float  # stream time the simulation had reached at the kill (upper bound)
    stored_s: float  # last stored sample time
    angles_s: float  # last stored angle time

    @property
    def lost_s(self) -> float:
        return self.reached_s - self.stored_s


def kill_trial(
    folder: Path,
    after_s: float,
    name: str = "crash",
    seed: int = 7,
    seconds: float = 120.0,
    profile: Path | None = None,
) -> CrashTrial:
    """Record at real-time pace, SIGKILL after ``after_s`` seconds of recording, inspect.

    ``seconds``: the simulated session's length, s, which must outlast ``after_s`` (the whole
    session is simulated before recording starts: shorter starts sooner). ``profile``: the
    wearer's calibration profile (JSON) if already made, which spares the recorder
    calibrating the simulated wearer first."""
    path = Path(folder) / f"{name}.sqlite"
    env = {**os.environ, "SPINEWATCH_HOME": str(Path(folder) / "home")}
    cmd = [sys.executable, "-m", "spinewatch.cli", "record", "--simulate", "--quiet"]
    cmd += ["--seconds", f"{seconds:g}", "--speed", "1", "--seed", str(seed), "-o", str(path)]
    cmd += [] if profile is None else ["--profile", str(profile)]
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None  # both are PIPEs
        line = proc.stdout.readline()
        m = re.search(r"host monotonic ([0-9.]+) s", line)
        if m is None:
            raise RuntimeError(f"recorder did not start: {line!r} {proc.stderr.read()!r}")
        started = float(m.group(1))
        line = proc.stdout.readline()
        s = re.search(r"streaming: stream time ([0-9.]+) s at host monotonic ([0-9.]+) s", line)
        if s is None:
            raise RuntimeError(f"recorder got no data: {line!r} {proc.stderr.read()!r}")
        t_first, m_first = float(s.group(1)), float(s.group(2))
        time.sleep(max(0.0, started + after_s - time.monotonic()))
        killed = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    db = sqlite3.connect(path)
    integrity = str(db.execute("PRAGMA integrity_check").fetchone()[0])
    db.close()
    with SessionFile(path) as sf:
        consistent, blocks = True, 0
        last_seq: dict[str, int] = {}
        stored = -np.inf
        for _, b in sf.iter_blocks():
            blocks += 1
            if not isinstance(b, ImuBlock) or b.seq is None or len(b) == 0:
                consistent = consistent and isinstance(b, ImuBlock)
                continue
            prev = last_seq.get(b.sensor)
            ok = bool(np.all(np.diff(b.seq) == 1)) and (prev is None or b.seq[0] == prev + 1)
            consistent = consistent and ok and bool(np.all(np.diff(b.t) > 0))
            last_seq[b.sensor] = int(b.seq[-1])
            stored = max(stored, float(b.t[-1]))
        ang_end = -np.inf
        for a, _ in sf.iter_angles():
            ang_end = float(a.t[-1])
        status = sf.status
    return CrashTrial(
        killed_after_s=killed - started,
        integrity=integrity,
        status=status,
        blocks=blocks,
        consistent=consistent,
        reached_s=t_first + (killed - m_first),
        stored_s=stored,
        angles_s=ang_end,
    )
