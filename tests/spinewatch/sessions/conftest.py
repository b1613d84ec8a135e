"""A short simulated recording shared by the session tests (recorded once per test run)."""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from sim.source import SimulatedSource
from sim.wearer import SimConfig
from spinewatch.events import thresholds_for
from spinewatch.sessions.recorder import Recorder
from tests.conftest import shared_artefact

if TYPE_CHECKING:
    from calibration import CalibrationProfile
    from posture.live import LiveUpdate


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPINEWATCH_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="session")
def profile(sim_profile: Callable[..., CalibrationProfile]) -> CalibrationProfile:
    return sim_profile(3)


@pytest.fixture(scope="session")
def profile7_json(sim_profile: Callable[..., CalibrationProfile]) -> Path:
    """The profile file of simulated wearer 7 (``record --simulate``'s default seed), for CLI
    subprocesses that would otherwise calibrate that wearer first. Read-only."""
    return shared_artefact("profile-seed7.json", sim_profile(7).save)


@pytest.fixture(scope="session")
def recorded(profile: CalibrationProfile) -> dict[str, Any]:
    """60 s of a lifting session with a manual set and a note, recorded flat out, once per
    test run for all xdist workers (``shared_artefact``): the session file (read-only) and,
    pickled beside it, the recorder's result, the live updates and the source."""

    def make(folder: Path) -> None:
        folder.mkdir()
        made = _record(folder / "lift.sqlite", profile)
        with open(folder / "recording.pickle", "wb") as f:
            pickle.dump(made, f, protocol=pickle.HIGHEST_PROTOCOL)

    folder = shared_artefact("recorded-lift-60s", make)
    with open(folder / "recording.pickle", "rb") as f:
        made = pickle.load(f)
    return {"path": folder / "lift.sqlite", **made}


def _record(path: Path, profile: CalibrationProfile) -> dict[str, Any]:
    src = SimulatedSource("lifting-session", 60.0, SimConfig(seed=3), speed=0, burst_s=0.5)
    rec = Recorder(src, path, profile, thresholds_for(profile, None), "auto")
    updates = []

    def on_update(up: LiveUpdate) -> None:
        updates.append(up)
        # A set marker and a note placed mid-stream, as a user would.
        if rec.pipeline is not None and len(updates) == 1500:
            rec.start_set()
            rec.note("felt a twinge")
        if rec.pipeline is not None and len(updates) == 2500:
            rec.end_set()

    result = asyncio.run(rec.run(on_update=on_update))
    return {"result": result, "updates": updates, "source": src}
