"""The GUI's record button into a real session file: what the window streamed is what is
stored, and a replay of it gives the window's own alerts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from calibration import CalibrationProfile, thresholds_for
from gui.controller import LiveController
from posture.live import LivePipeline
from posture.records import ImuBlock
from sim.source import SimulatedSource
from sim.wearer import SimConfig
from spinewatch.sessions import SessionFile
from spinewatch.sessions.recorder import SessionSink
from spinewatch.sessions.replay import replay_session
from spinewatch.sessions.store import SessionStatus

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot


@pytest.mark.slow
def test_gui_recording_is_a_complete_replayable_session(
    qtbot: QtBot,
    tmp_path: Path,
    sim_profile: Callable[..., CalibrationProfile],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = SimConfig(seed=7)
    prof = sim_profile(7)
    th = thresholds_for(prof)
    src = SimulatedSource("lifting-session", 60.0, cfg, speed=0, burst_s=0.5)
    asyncio.run(src.start())
    buzzes: list = []  # haptic commands the window scheduled (closed below, no loop here)
    ctl = LiveController(
        src,
        LivePipeline.for_host_clock(prof, th, "auto", src.rates_hz),
        poll_ms=None,
        runner=buzzes.append,
    )
    ctl.sink = SessionSink(prof, th)
    seen: list[ImuBlock] = []
    orig = ctl.sink.write

    def spy(block: ImuBlock) -> None:
        seen.append(block)
        orig(block)

    monkeypatch.setattr(ctl.sink, "write", spy)
    path = tmp_path / "gui.sqlite"
    assert ctl.toggle_recording(str(path))
    ctl.toggle_set()  # a set started from the window is recorded as a marker
    while not ctl.done:
        ctl.poll()
    ctl.toggle_set()
    assert ctl.toggle_recording() is False
    for c in buzzes:
        c.close()
    with SessionFile(path) as sf:
        assert sf.summary().status == SessionStatus.COMPLETE
        for role in ("thoracic", "lumbar"):
            stored = sf.raw(role)
            sent = ImuBlock.concat([b for b in seen if b.sensor == role])
            np.testing.assert_array_equal(stored.t, sent.t)
            np.testing.assert_array_equal(stored.acc, sent.acc)
        kinds = [m.kind for m in sf.markers()]
        assert kinds == ["set_start", "set_end"]
        res = replay_session(sf)
    window_alerts = [(a.start_s, a.plane, a.side) for a in ctl.alerts]
    assert window_alerts and sorted(window_alerts) == sorted(
        (a.start_s, a.plane, a.side) for a in res.alerts
    )
