"""Sessions for the archive tests: two simulated recordings, cloned into wearers and days.

Recording is the slow part, so two base sessions are recorded once per test run (one with a
manual set and a note, one without markers, different simulated wearers) and then copied into
session files with their own id, wearer and creation date (``meta``), as a team's sessions.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from calibration.profile import thresholds_for
from sim.source import SimulatedSource
from sim.wearer import SimConfig
from spinewatch.sessions.recorder import Recorder
from spinewatch.sessions.store import connect, set_meta
from tests.conftest import _profile, shared_artefact  # run-wide caches

if TYPE_CHECKING:
    from posture.live import LiveUpdate

DAY = 86400.0
T0 = 1_790_000_000.0  # 2026-09-21 (a Monday), UTC


def record(path: Path, seed: int, seconds: float, with_set: bool) -> Path:
    prof = _profile(seed, 200.0)
    src = SimulatedSource("lifting-session", seconds, SimConfig(seed=seed), speed=0, burst_s=0.5)
    rec = Recorder(src, path, prof, thresholds_for(prof, None), "auto")
    n = 0

    def on_update(up: LiveUpdate) -> None:
        nonlocal n
        n += 1
        if with_set and rec.pipeline is not None and n == 400:
            rec.start_set()
            rec.note("felt a twinge")
        if with_set and rec.pipeline is not None and n == 1400:
            rec.end_set()

    asyncio.run(rec.run(on_update=on_update))
    return path


def clone(base: Path, dest: Path, sid: str, wearer: str, created: float) -> Path:
    """A copy of a session file with its own id, wearer and creation time."""
    shutil.copyfile(base, dest)
    db = connect(dest)
    set_meta(db, session_id=sid, wearer=wearer, created_unix=created)
    db.close()
    return dest


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPINEWATCH_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="session")
def bases() -> list[Path]:
    """The two base sessions, recorded once per test run for all xdist workers (read-only:
    the tests clone them)."""

    def make(d: Path) -> None:
        d.mkdir()
        record(d / "a.sqlite", 3, 45.0, True)
        record(d / "b.sqlite", 8, 45.0, False)

    d = shared_artefact("archive-bases", make)
    return [d / "a.sqlite", d / "b.sqlite"]


@pytest.fixture()
def team(bases: list[Path], tmp_path: Path) -> list[Path]:
    """Six sessions: 3 wearers over two ISO weeks (one wearer twice on the same day)."""
    return make_team(bases, tmp_path / "sessions")


def make_team(bases: list[Path], d: Path) -> list[Path]:
    """The six sessions of :func:`team`, cloned into the new folder ``d``."""
    d.mkdir()
    plan = [
        ("s1", "ana", 0, 0),
        ("s2", "ana", 0, 1),
        ("s3", "ana", 8, 0),
        ("s4", "ben", 1, 1),
        ("s5", "ben", 9, 0),
        ("s6", "cy", 2, 1),
    ]
    return [
        clone(bases[b], d / f"{sid}.sqlite", sid, w, T0 + day * DAY + 3600 * (1 + b))
        for sid, w, day, b in plan
    ]
