"""Fixtures of the hostile-input suite: a small valid session, and a CLI runner that checks
every failure is a one-line error (no traceback) and that no pre-existing file changed."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from posture.alerts import Alert
from posture.engine import analyze
from posture.records import ImuBlock
from posture.reps import RepMetrics
from sim.wearer import SimConfig, simulate
from spinewatch.cli import main
from spinewatch.sessions.writer import SessionWriter
from tests.conftest import shared_artefact

NOTE = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPINEWATCH_HOME", str(tmp_path / "home"))


def write_session(path: Path, seconds: float = 12.0) -> Path:
    """A small complete session: raw blocks of both sensors, angles, an alert, a rep, a note."""
    raw = simulate("standing", SimConfig(seed=1, rate_hz=50.0), duration_s=seconds).raw
    w = SessionWriter(path, {"source": "test", "rates_hz": {"lumbar": 50.0, "thoracic": 50.0}})
    for lo in range(0, min(len(b) for b in raw.values()), 25):
        for b in raw.values():
            if isinstance(b, ImuBlock):
                w.block(b.take(slice(lo, lo + 25)))
    ang = analyze(raw)
    w.angles(ang, np.zeros(len(ang), dtype=bool))
    t0 = float(ang.t[0])
    w.alerts([Alert(t0 + 1, t0 + 1.1, float("nan"), "flexion", "positive", 21.0)])
    w.reps([RepMetrics(t0 + 2, t0 + 3, t0 + 4, 20.0, 5.0, 1.0, -1.0, 60.0, float("nan"), 2.0)])
    w.marker("note", t0 + 5, NOTE)
    w.close()
    return path


@pytest.fixture(scope="session")
def session_bytes() -> bytes:
    """The bytes of :func:`write_session`, made once per test run for all xdist workers."""
    return shared_artefact("hostile-good.sqlite", write_session).read_bytes()


@pytest.fixture
def session(tmp_path: Path, session_bytes: bytes) -> Path:
    p = tmp_path / "good.sqlite"
    p.write_bytes(session_bytes)
    return p


def tamper(path: Path, *sql: str) -> Path:
    db = sqlite3.connect(path, isolation_level=None)
    for s in sql:
        db.execute(s)
    db.close()
    return path


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative path -> sha256)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


RunCli = Callable[..., tuple[int, str]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> RunCli:
    """Run ``spinewatch ARGS`` in-process; assert a failure is one line without a traceback."""

    def run(*args: str | Path, ok: bool | None = None) -> tuple[int, str]:
        capsys.readouterr()
        code = main([str(a) for a in args])
        err = capsys.readouterr().err
        assert "Traceback" not in err
        if code != 0:
            lines = [ln for ln in err.splitlines() if ln.strip()]
            assert len(lines) == 1 and lines[0].startswith("spinewatch: "), err
        if ok is not None:
            assert (code == 0) is ok, err
        return code, err

    return run
