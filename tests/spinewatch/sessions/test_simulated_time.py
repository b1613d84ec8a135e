"""A recording through simulated Bluetooth sensors, on simulated time: the live path end to
end (peripherals, links, bridge timing, recorder, session file), faster than real time."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from sim.ble_source import SimulatedBleSource
from sim.clock import run_simulated
from sim.peripheral import Faults
from sim.wearer import SimConfig
from spinewatch.events import thresholds_for
from spinewatch.sessions import SessionFile, SessionStatus
from spinewatch.sessions.recorder import Recorder

if TYPE_CHECKING:
    from calibration import CalibrationProfile


def test_ble_recording_on_simulated_time(tmp_path: Path, profile: CalibrationProfile) -> None:
    src = SimulatedBleSource("deadlift-set", 10.0, SimConfig(seed=5), faults=Faults(drop=0.03))
    path = tmp_path / "ble.sqlite"
    rec = Recorder(src, path, profile, thresholds_for(profile, None), "auto")
    res = run_simulated(rec.run())
    assert res.status is SessionStatus.COMPLETE
    status = src.status()
    with SessionFile(path) as sf:
        s = sf.summary()
        assert s.status is SessionStatus.COMPLETE
        assert s.duration_s == pytest.approx(10.0, abs=0.3)
        for role in ("thoracic", "lumbar"):
            per = src.peripherals[role]
            assert s.samples[role] == int(per.sent.sum()) == status[role].received
            raw = sf.raw(role)
            # Time stamps on the simulated clock: exactly the peripheral's send schedule.
            truth = src.truth_host_time(role, raw.seq)
            late = raw.t > raw.t[0] + 5.0
            assert abs(raw.t[late] - truth[late]).max() < 0.002
