"""Replay is the live run, bit for bit; re-analysis with other settings; ReplaySource."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from firmware_bridge.api import LinkState, SampleSource
from posture.live import LivePipeline
from posture.records import AngleBlock
from posture.thresholds import Thresholds
from spinewatch.sessions import SessionFile
from spinewatch.sessions.replay import ReplaySource, replay_session

if TYPE_CHECKING:
    from calibration import CalibrationProfile


@pytest.mark.slow
def test_replay_equals_the_live_recording_bit_for_bit(recorded: dict) -> None:
    with SessionFile(recorded["path"]) as sf:
        res = replay_session(sf)
        live, load = sf.angles()
        stored_alerts, stored_reps = sf.alerts(), sf.reps()
    for name in ("t", "flexion", "lateral_flexion", "rotation", "hip_angle", "flags"):
        np.testing.assert_array_equal(getattr(res.angles, name), getattr(live, name))
    np.testing.assert_array_equal(res.under_load, load)
    assert sorted(res.alerts, key=lambda a: (a.start_s, a.plane, a.side)) == stored_alerts
    assert res.reps == stored_reps


def test_set_markers_are_replayed_where_they_happened(recorded: dict) -> None:
    with SessionFile(recorded["path"]) as sf:
        start = next(m for m in sf.markers() if m.kind == "set_start")
        end = next(m for m in sf.markers() if m.kind == "set_end")
        res = replay_session(sf, load_mode="never")
    assert start.t_s is not None and end.t_s is not None
    inside = (res.angles.t > start.t_s + 0.05) & (res.angles.t < end.t_s - 0.05)
    assert inside.any() and res.under_load[inside].all()
    assert not res.under_load[res.angles.t < start.t_s - 0.05].any()


@pytest.mark.slow
def test_reanalysis_with_other_thresholds_and_profile(
    recorded: dict[str, Any], profile: CalibrationProfile
) -> None:
    with SessionFile(recorded["path"]) as sf:
        base = replay_session(sf)
        strict = replay_session(sf, thresholds=Thresholds.parse("flexion=3,lateral_flexion=3"))
        uncal = replay_session(sf, profile=None)
    assert len(strict.alerts) > len(base.alerts)
    assert (uncal.angles.flags & 8).all() and not (base.angles.flags & 8).any()


@pytest.mark.slow
def test_paced_replay_waits_for_the_stream_time(recorded: dict) -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(d: float) -> None:
        waits.append(d)
        now[0] += d

    with SessionFile(recorded["path"]) as sf:
        res = replay_session(sf, speed=4.0, clock=lambda: now[0], sleep=sleep)
        span = float(res.angles.t[-1] - res.angles.t[0])
    # Virtual time advanced by the stream's duration divided by the speed.
    assert abs(now[0] - span / 4.0) < 0.05
    assert len(waits) > 100


def _drive(src: ReplaySource, sf: SessionFile) -> AngleBlock:
    prof = sf.profile()
    assert prof is not None
    pipe = LivePipeline(prof.spine_model, sf.thresholds(), sf.load_settings(), sf.engine_settings())
    asyncio.run(src.start())
    parts = []
    while not src.finished:
        for b in src.read():
            parts.append(pipe.push(b).angles)
    parts.append(pipe.flush().angles)
    asyncio.run(src.stop())
    return AngleBlock.concat(parts)


@pytest.mark.slow
def test_replay_source_is_a_sample_source(recorded: dict, tmp_path: Path) -> None:
    now = [0.0]
    with SessionFile(recorded["path"]) as sf:
        src = ReplaySource(sf, speed=2.0, clock=lambda: now[0])
        assert isinstance(src, SampleSource)
        assert src.rates_hz["lumbar"] > 199
        asyncio.run(src.start())
        assert src.read() == []  # nothing is due before the clock moves
        now[0] = 5.0  # 10 s of stream at 2x
        got = src.read()
        lum = [b for b in got if b.sensor == "lumbar"]
        span = lum[-1].t[-1] - lum[0].t[0]
        assert 9.5 < span <= 10.0
        st = src.status()
        assert st["lumbar"].state is LinkState.STREAMING and st["lumbar"].received > 1500
        assert not asyncio.run(src.signal("lumbar"))
        flat = ReplaySource(sf, speed=0, burst_s=0.5)
        angles = _drive(flat, sf)
        live, _ = sf.angles()
    # Without set markers applied the load differs, but the angles are the live ones.
    np.testing.assert_array_equal(angles.flexion, live.flexion)
