"""The live pipeline (as the monitor, GUI and recorder drive it) equals batch analysis."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from firmware_bridge.api import LinkState, SampleSource
from posture.alerts import LoadSettings, detect_alerts
from posture.alignment import ClockMap
from posture.engine import EngineSettings, analyze
from posture.live import LivePipeline
from posture.records import AngleBlock
from posture.reps import segment_reps
from sim.source import SimulatedSource
from sim.wearer import SimConfig, simulate
from spinewatch.events import thresholds_for

if TYPE_CHECKING:
    from calibration import CalibrationProfile


@pytest.fixture(scope="module")
def run(sim_profile: Callable[..., CalibrationProfile]) -> dict[str, Any]:
    cfg = SimConfig(seed=3)
    prof = sim_profile(3)
    src = SimulatedSource("lifting-session", 60.0, cfg, speed=0, burst_s=0.5)
    assert isinstance(src, SampleSource)
    th = thresholds_for(prof, None)
    es = EngineSettings(lumbar_rate_hz=200, thoracic_rate_hz=200, clock=ClockMap(0.0, 0.0))
    pipe = LivePipeline(prof.spine_model, th, LoadSettings(), es)
    asyncio.run(src.start())
    angs, reps, ended, raised, loads = [], [], [], [], []
    while not src.finished:
        for b in src.read():
            u = pipe.push(b)
            angs.append(u.angles)
            loads.append(u.under_load)
            reps += u.reps
            ended += u.ended
            raised += u.raised
    u = pipe.flush()
    angs.append(u.angles)
    reps += u.reps
    ended += u.ended
    batch = analyze(src.result.raw, prof.spine_model, es)
    return dict(
        live=AngleBlock.concat(angs),
        batch=batch,
        reps=reps,
        ended=ended,
        raised=raised,
        th=th,
        src=src,
        loads=np.concatenate(loads),
    )


def test_live_angles_equal_batch(run: dict) -> None:
    a, b = run["live"], run["batch"]
    np.testing.assert_array_equal(a.t, b.t)
    np.testing.assert_array_equal(a.flexion, b.flexion)


def test_live_reps_equal_batch(run: dict) -> None:
    batch = segment_reps(run["batch"])
    assert len(batch) >= 5
    assert [(r.start_s, r.end_s, r.hip_share) for r in run["reps"]] == [
        (r.start_s, r.end_s, r.hip_share) for r in batch
    ]


def test_live_alerts_equal_batch(run: dict) -> None:
    batch = detect_alerts(run["batch"], run["th"], LoadSettings())
    assert len(batch) >= 1
    key = lambda als: [(a.start_s, a.plane, a.side) for a in als]  # noqa: E731
    # In the moment: the causal batch alerts. Reviews of a set's first rep (raised when the
    # set is recognised): alerts only the whole recording's load adds.
    assert key(a for a in run["ended"] if not a.is_review) == key(batch)
    reviews = key(a for a in run["ended"] if a.is_review)
    whole = detect_alerts(run["batch"], run["th"], LoadSettings(), whole_recording=True)
    assert set(reviews) <= set(key(whole)) - set(key(batch))
    assert len(run["raised"]) == len(run["ended"])


def test_load_flag_marks_hinges(run: dict) -> None:
    assert run["loads"].any() and not run["loads"].all()


def test_simulated_source_loses_and_recovers_a_sensor() -> None:
    now = [0.0]
    src = SimulatedSource(
        "standing", 6.0, SimConfig(seed=1), lose={"thoracic": (2.0, 1.5)}, clock=lambda: now[0]
    )
    asyncio.run(src.start())
    states = []
    for step in range(1, 61):
        now[0] = step * 0.1
        src.read()
        states.append(src.status()["thoracic"].state)
    assert LinkState.LOST in states
    st = src.status()["thoracic"]
    assert st.state == LinkState.STREAMING and st.reconnects == 1
    assert st.dropped == pytest.approx(1.5 * 200, abs=5)
    assert src.status()["lumbar"].dropped == 0


def test_manual_set_puts_load_on() -> None:
    cfg = SimConfig(seed=2)
    res = simulate("standing", cfg, duration_s=4.0)
    es = EngineSettings(lumbar_rate_hz=200, thoracic_rate_hz=200, clock=ClockMap(0.0, 0.0))
    pipe = LivePipeline(None, None, LoadSettings(mode="never"), es)
    t0 = float(res.raw["lumbar"].t[0])
    pipe.start_set(t0 + 2.0)
    ups = [pipe.push(b) for b in res.raw.values()] + [pipe.flush()]
    t = np.concatenate([u.angles.t for u in ups])
    load = np.concatenate([u.under_load for u in ups])
    assert load[t > t0 + 2.1].all() and not load[t < t0 + 1.9].any()
    assert pipe.toggle_set() is False
