"""Pause anchors: a lifter standing up between reps holds the trunk over the pelvis without
twist, so the brief upright pauses of a set weigh the relative heading back towards neutral
(:func:`posture.rezero.pause_update`, :meth:`posture.engine_state.HeadingState.pause_end`)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from posture import engine as E
from posture.anchors import ANCHOR_SIGMA_DEG, PAUSE_GATE, PAUSE_MIN_S, PAUSE_SIGMA_DEG
from posture.engine_state import HeadingState
from posture.records import FLAG_REZERO
from posture.rezero import pause_update
from sim.movement import Script, add_deadlift_set, add_stand, add_walk
from sim.wearer import SimConfig, Wearer, simulate
from tests.posture.test_engine_paths import scalar_and_array


def test_a_pause_is_weighed_against_the_error_since_the_anchor():
    nu = math.radians(2.0)
    p = ANCHOR_SIGMA_DEG**2 + 3.0
    r = PAUSE_SIGMA_DEG**2
    upd = pause_update(nu, 0.0, 3.0)
    assert upd is not None
    shift, since = upd
    assert math.isclose(shift, nu * p / (p + r))
    assert math.isclose(since, p * r / (p + r) - ANCHOR_SIGMA_DEG**2)
    # right after an anchor a pause moves little and cannot make the error smaller than one
    small = pause_update(math.radians(0.5), 0.0, 0.0)
    assert small is not None and small[1] == 0.0 and small[0] < math.radians(0.5) / 2
    # a correction far from the prediction (a twist held upright) is not a pause
    far = PAUSE_GATE * math.sqrt(p + r) + 0.5
    assert pause_update(math.radians(far), 0.0, 3.0) is None


def test_a_pause_must_last_and_hold_still():
    h = HeadingState()
    assert h.pause_end() is None  # none summed
    for i in range(3):
        h.pause_add(i * 0.01, 0.1)
    assert h.pause_end() is None  # 20 ms: too short
    n = int(PAUSE_MIN_S / 0.01) + 5
    for i in range(n):
        h.pause_add(i * 0.01, 0.1 + 1e-4 * (i % 2))
    m = h.pause_end()
    assert m is not None and abs(m - 0.10005) < 1e-5
    for i in range(n):  # a twist through the pause: a spread of ±5°
        h.pause_add(i * 0.01, math.radians(5.0) * (1 if i % 2 else -1))
    assert h.pause_end() is None


def _set_with_a_fresh_bias():
    """Walking, then a deadlift set while the lumbar gyro picks up a bias about its long axis
    (0.25°/s) that the walking anchors never saw: only pauses can bound the heading."""
    cfg = SimConfig(seed=21, rate_hz=100.0, mounting="nominal", gyr_bias_drift=0.0)
    rng = np.random.default_rng(0)
    s = Script()
    t = add_stand(s, 0.0, 5.0)
    t = add_walk(s, t, 40.0, rng, turn=False)
    t_set = t
    t = add_deadlift_set(s, t, Wearer.from_seed(cfg.seed), rng, 0, 8, set(), None, None)
    s.duration = add_walk(s, t, 5.0, rng, turn=False)
    sess = simulate(s, cfg)
    lum = sess.raw["lumbar"]
    gyr = lum.gyr.copy()
    gyr[:, 1] += np.where(lum.t - lum.t[0] > t_set, math.radians(0.25), 0.0)
    return cfg, sess, {**sess.raw, "lumbar": replace(lum, gyr=gyr)}


def test_pauses_bound_the_heading_through_a_set(sim_profile):
    cfg, sess, raw = _set_with_a_fresh_bias()
    ang = E.analyze(raw, sim_profile(cfg).spine_model)
    tr = sess.truth
    a, b = tr.sets[0]
    m = (ang.t >= a) & (ang.t <= b)
    ti = np.clip(np.searchsorted(tr.t, ang.t[m]), 0, tr.t.size - 1)
    # Held at the walking anchor the heading would drift ~8° over the set.
    assert (ang.flags[m] & FLAG_REZERO).sum() >= 5  # the pauses between reps
    assert np.nanmax(np.abs(ang.rotation[m] - tr.rotation[ti])) < 2.5
    assert np.nanmax(np.abs(ang.lateral_flexion[m] - tr.lateral_flexion[ti])) < 2.0


@pytest.mark.parametrize("chunk_s", [0.02, 0.7])
def test_pause_anchors_are_the_same_on_both_paths(monkeypatch, sim_profile, chunk_s):
    cfg, _, raw = _set_with_a_fresh_bias()
    model = sim_profile(cfg).spine_model
    settings = E.EngineSettings(lumbar_rate_hz=100.0, thoracic_rate_hz=100.0)
    scalar, array = scalar_and_array(monkeypatch, model, settings, raw, chunk_s)
    for name in ("lateral_flexion", "rotation", "rotation_confidence", "flags"):
        np.testing.assert_array_equal(getattr(scalar, name), getattr(array, name), err_msg=name)


def test_batch_takes_the_pauses_between_reps_as_anchors(sim_profile):
    from posture.batch import analyze_offline

    cfg, sess, raw = _set_with_a_fresh_bias()
    ang = analyze_offline(raw, sim_profile(cfg).spine_model)
    tr = sess.truth
    a, b = tr.sets[0]
    m = (ang.t >= a) & (ang.t <= b)
    ti = np.clip(np.searchsorted(tr.t, ang.t[m]), 0, tr.t.size - 1)
    assert (ang.flags[m] & FLAG_REZERO).sum() >= 5  # one per pause
    assert np.nanmax(np.abs(ang.rotation[m] - tr.rotation[ti])) < 1.5
    assert np.nanmax(np.abs(ang.lateral_flexion[m] - tr.lateral_flexion[ti])) < 1.0
