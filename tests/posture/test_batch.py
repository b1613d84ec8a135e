"""Batch analysis (offline fusion, anchors spread both ways) and the live rotation confidence."""

from __future__ import annotations

import numpy as np
import pytest

from posture.alerts import AlertEngine, LoadContext, LoadSettings
from posture.anchors import error_from_confidence
from posture.batch import analyze_offline, spread_heading
from posture.engine import analyze
from posture.records import FLAG_REZERO, AngleBlock
from posture.thresholds import Thresholds
from sim.evaluation import angle_rmse
from sim.wearer import PHASES, SimConfig, simulate


@pytest.fixture(scope="module")
def session(sim_profile):
    cfg = SimConfig(
        seed=7, rate_hz=100.0, clock_offset_s=0.02, clock_drift_ppm=-20, drop_prob=0.005
    )
    prof = sim_profile(cfg)
    sim = simulate("lifting-session", cfg, 180.0)
    return prof, sim, analyze_offline(sim.raw, prof.spine_model), analyze(sim.raw, prof.spine_model)


def test_batch_is_at_least_as_good_as_live(session):
    _, sim, batch, live = session
    truth = sim.truth.angle_block()
    b = angle_rmse(batch, truth, skip_s=2.0)
    lv = angle_rmse(live, truth, skip_s=2.0)
    assert b["coverage"] > 0.97
    assert b["rotation"] < 0.5
    assert b["rotation"] <= lv["rotation"] + 0.05
    assert b["flexion"] < 1.0 and b["lateral_flexion"] < 1.0
    np.testing.assert_array_equal(batch.t, live.t)  # the lumbar sensor's own time stamps


def test_walking_gives_heading_anchors(session):
    _, sim, batch, _ = session
    idx = np.clip(np.searchsorted(sim.truth.t, batch.t), 0, sim.truth.t.size - 1)
    phase = sim.truth.phase[idx]
    anchor = (batch.flags & FLAG_REZERO).astype(bool)
    walk = phase == PHASES.index("walk")
    lift = phase == PHASES.index("lift")
    assert anchor[walk].mean() > 0.3  # all but the bout edges
    assert anchor[lift].mean() < 0.2  # standing between reps only


def test_heading_spreads_linearly_between_anchors_and_across_pi():
    t = np.array([0.0, 5.0, 10.0, 20.0])
    d = spread_heading(t, np.array([0.0, 10.0]), np.array([0.0, 0.2]))
    np.testing.assert_allclose(d, [0.0, 0.1, 0.2, 0.2])
    d = spread_heading(np.array([0.5]), np.array([0.0, 1.0]), np.array([np.pi - 0.1, -np.pi + 0.1]))
    assert abs(abs(d[0]) - np.pi) < 1e-9  # the short way round, not through zero


def test_live_confidence_bounds_the_real_rotation_error(session):
    _, sim, _, live = session
    idx = np.clip(np.searchsorted(sim.truth.t, live.t), 0, sim.truth.t.size - 1)
    err = np.abs(live.rotation - sim.truth.rotation[idx])
    ok = np.isfinite(err)
    e95 = error_from_confidence(live.rotation_confidence)
    assert np.mean(err[ok] <= e95[ok]) >= 0.95
    good = ok & (live.rotation_confidence >= 0.5)
    assert good.mean() > 0.3
    assert np.percentile(err[good], 95) <= 2.0


def _block(rot: float, conf: float, n: int = 200) -> AngleBlock:
    t = 100.0 + np.arange(n) / 100.0
    z = np.zeros(n)
    return AngleBlock(t, z, z, np.full(n, rot), z, z, z, np.full(n, conf), np.zeros(n, np.uint8))


@pytest.mark.parametrize(("conf", "expected"), [(1.0, 1), (0.9, 1), (0.05, 0), (0.0, 0)])
def test_rotation_alerts_are_withheld_while_uncertain(conf, expected):
    eng = AlertEngine(Thresholds.parse("rotation=15"), LoadContext(LoadSettings(mode="always")))
    raised, _ = eng.process(_block(25.0, conf))
    assert sum(a.plane == "rotation" for a in raised) == expected
    assert eng.rotation_uncertain == (expected == 0)


def test_rezero_guard_grows_with_the_expected_error():
    from posture.rezero import guard_rad

    assert guard_rad(10.0, None) == np.inf  # no anchor yet: any first re-zero
    assert guard_rad(10.0, 0.0) == pytest.approx(np.radians(10.0))  # fresh anchor
    # (20°)² of accumulated heading error variance since the anchor: a 30° correction is drift.
    assert guard_rad(10.0, 400.0) > np.radians(30.0)


def test_gait_averager_passes_the_mean_and_restarts_when_walking_stops():
    from posture.anchors import GaitAverager

    avg = GaitAverager()
    t = np.arange(0, 12, 0.01)
    d = 0.3 + np.radians(4.0) * np.sin(2 * np.pi * 0.9 * t)  # stride swing about 0.3 rad
    out = [avg.step(ti, True, di) for ti, di in zip(t, d, strict=True)]
    assert all(o is None for o in out[:490])  # settling
    tail = np.array([o for o in out[-300:]])
    assert np.abs(tail - 0.3).max() < np.radians(0.15)
    assert avg.step(12.0, False, 0.0) is None and not avg.active


def test_live_engine_anchors_while_walking(session):
    _, sim, _, live = session
    idx = np.clip(np.searchsorted(sim.truth.t, live.t), 0, sim.truth.t.size - 1)
    walk = sim.truth.phase[idx] == PHASES.index("walk")
    anchor = (live.flags & FLAG_REZERO).astype(bool)
    assert anchor[walk].mean() > 0.2  # after the first seconds of each bout


def test_parallel_batch_gives_the_same_bits(session):
    """Forked fusion, threads for the anchors and confidence, and the early columns (the
    block's own arrays, handed out before the heading): every column as in one process."""
    prof, sim, batch, _ = session
    early: list[dict[str, np.ndarray]] = []
    par = analyze_offline(sim.raw, prof.spine_model, parallel=True, early=early.append)
    for name in AngleBlock.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(par, name), getattr(batch, name))
    handed = {k: v for cols in early for k, v in cols.items()}  # (the last of each)
    assert set(handed) == {
        "t",
        "thoracic_inclination",
        "lumbar_inclination",
        "rotation",
        "rotation_confidence",
    }
    from posture.anglescsv import same_memory

    assert all(same_memory(getattr(par, k), v) for k, v in handed.items())
    serial: list[dict[str, np.ndarray]] = []
    one = analyze_offline(sim.raw, prof.spine_model, early=serial.append)
    handed = {k: v for cols in serial for k, v in cols.items()}
    assert all(same_memory(getattr(one, k), v) for k, v in handed.items()) and len(handed) == 5


def test_parallel_batch_corrects_the_accelerometers_as_serial(session):
    """With the accelerometer correction applied in the forked children: the same bits."""
    import dataclasses

    from posture.acc_correction import AccCorrection

    prof, sim, _, _ = session
    corr = {
        "lumbar": AccCorrection([0.05, -0.03, 0.02], [1.01, 0.99, 1.0]),
        "thoracic": AccCorrection([-0.04, 0.02, 0.06], [0.995, 1.0, 1.012]),
    }
    model = dataclasses.replace(prof.spine_model, acc_correction=corr)
    one = analyze_offline(sim.raw, model)
    par = analyze_offline(sim.raw, model, parallel=True)
    plain = analyze_offline(sim.raw, prof.spine_model)
    assert not np.array_equal(one.flexion, plain.flexion, equal_nan=True)  # it did correct
    for name in AngleBlock.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(par, name), getattr(one, name))
