"""Live relative heading: its drift rate is estimated from the anchors and carried on between
them (:func:`posture.rezero.track_rate`), so a lifting set after a walking bout does not go
blind to a gyro-bias error about the vertical that 6D fusion cannot observe."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from posture.engine import analyze
from posture.engine_state import HeadingState
from posture.rezero import (
    MAX_RATE,
    RATE_HORIZON_S,
    RATE_TAU_S,
    accept_tracking,
    predicted,
    track_rate,
)
from sim.movement import Script, add_deadlift_set, add_stand, add_walk
from sim.wearer import SimConfig, Wearer, simulate


def _anchors(t: np.ndarray, needed: np.ndarray, lag: np.ndarray | None = None):
    return accept_tracking(needed, t, 0.0, 0.0, 0.0, 10.0, t * 1e-3, 0.0, lag)


def test_rate_converges_to_a_steady_drift_and_predicts_the_gap():
    rate = math.radians(0.2)
    t = np.arange(0.0, 90.0, 0.01)  # 90 s of anchors at 100 Hz (a walking bout)
    noise = np.random.default_rng(1).normal(0.0, math.radians(0.05), t.size)  # averaged
    ok, d, td, r, _ = _anchors(t, rate * t + noise)
    assert ok.all()
    assert abs(r[-1] - rate) < math.radians(0.02)
    # 30 s later (a set without anchors) the prediction is still within half a degree.
    later = predicted(d[-1], td[-1], r[-1], t[-1] + 30.0)
    assert abs(later - rate * (t[-1] + 30.0)) < math.radians(0.5)


def test_an_anchor_after_a_long_gap_corrects_part_of_the_rate_error():
    nu = math.radians(3.0)  # 3° found 30 s after the last anchor, none predicted
    r = track_rate(nu, 0.0, 30.0, 0.0)
    assert math.isclose(r, nu / (RATE_TAU_S + 30.0))
    assert track_rate(math.radians(90.0), 0.0, 1.0, 0.0) == MAX_RATE  # a real turn: bounded
    assert track_rate(2 * math.pi - 1e-3, 0.0, 1.0, 0.0) < 0  # innovations wrap


def test_the_start_guess_is_not_taken_for_drift():
    t = np.array([5.0, 5.01])
    ok, _, _, r, _ = accept_tracking(np.array([1.0, 1.0]), t, 0.0, 0.0, 0.0, 10.0, t, None)
    assert ok.all() and r[0] == 0.0 and r[1] == 0.0


def test_walking_anchor_lag_is_carried_to_now():
    rate = math.radians(0.2)
    t = np.arange(0.0, 120.0, 0.01)
    lag = np.full(t.size, 3.0)  # a running average 3 s old
    _, d, _, r, _ = _anchors(t, rate * (t - 3.0), lag)
    assert abs(d[-1] - rate * t[-1]) < math.radians(0.1)
    assert abs(r[-1] - rate) < math.radians(0.01)


def test_heading_state_carries_the_correction_on():
    h = HeadingState(delta=0.1, t_delta=10.0, rate=0.01)
    assert h.at(12.0) == predicted(0.1, 10.0, 0.01, 12.0) == 0.1 + 0.01 * 2.0
    assert HeadingState().at(1.0) is None


def test_set_after_walking_keeps_lateral_flexion_despite_an_unseen_vertical_bias(sim_profile):
    """Walking 60 s straight into a deadlift set while the lumbar gyro has a bias about its
    long axis that appeared after the last rest (0.25°/s; 6D fusion cannot see it while
    upright). Held at the last walking anchor, the relative heading drifts ~7° over the set
    and shows up as lateral flexion and rotation; carried on at the rate the walking anchors
    showed, it stays within a degree."""
    cfg = SimConfig(seed=21, rate_hz=100.0, mounting="nominal", gyr_bias_drift=0.0)
    rng = np.random.default_rng(0)
    s = Script()
    t = add_stand(s, 0.0, 5.0)
    t = add_walk(s, t, 60.0, rng, turn=False)
    t = add_deadlift_set(s, t, Wearer.from_seed(cfg.seed), rng, 0, 8, set(), None, None)
    s.duration = add_walk(s, t, 5.0, rng, turn=False)
    sess = simulate(s, cfg)
    lum = sess.raw["lumbar"]
    gyr = lum.gyr.copy()
    gyr[:, 1] += np.where(lum.t - lum.t[0] > 6.0, math.radians(0.25), 0.0)
    raw = {**sess.raw, "lumbar": replace(lum, gyr=gyr)}
    ang = analyze(raw, sim_profile(cfg).spine_model)
    tr = sess.truth
    a, b = tr.sets[0]
    m = (ang.t >= a) & (ang.t <= b)
    ti = np.clip(np.searchsorted(tr.t, ang.t[m]), 0, tr.t.size - 1)
    assert np.nanmax(np.abs(ang.lateral_flexion[m] - tr.lateral_flexion[ti])) < 1.0
    assert np.nanmax(np.abs(ang.rotation[m] - tr.rotation[ti])) < 1.0


def test_the_rate_is_carried_on_for_a_while_then_the_correction_is_held():
    h = HeadingState(delta=0.0, t_delta=0.0, rate=0.01)
    assert h.at(RATE_HORIZON_S / 2) == 0.01 * RATE_HORIZON_S / 2
    assert h.at(RATE_HORIZON_S) == h.at(10 * RATE_HORIZON_S) == 0.01 * RATE_HORIZON_S
