"""Hinge rep segmentation against the simulator's rep truth."""

from __future__ import annotations

import pytest

from posture.engine import analyze
from posture.reps import RepMetrics, fatigue_slope, segment_reps
from sim.wearer import SimConfig, calibrated_profile, simulate


def test_reps_match_truth():
    cfg = SimConfig(seed=9, rate_hz=100)
    prof = calibrated_profile(cfg)
    sess = simulate("deadlift-set", cfg)
    reps = segment_reps(analyze(sess.raw, prof.spine_model))
    assert len(reps) == len(sess.truth.reps) == 6
    for got, want in zip(reps, sess.truth.reps, strict=True):
        assert got.start_s == pytest.approx(want.start_s, abs=0.25)
        assert got.bottom_s == pytest.approx(want.bottom_s, abs=0.25)
        assert got.end_s == pytest.approx(want.end_s, abs=0.25)
        assert got.hip_share == pytest.approx(want.hip_share, abs=0.05)
        assert got.peak_flexion_deg == pytest.approx(
            max(want.peak_flexion_deg, got.peak_flexion_deg), abs=3.0
        )
    rounded = [g for g, w in zip(reps, sess.truth.reps, strict=True) if w.rounded]
    assert all(r.peak_flexion_deg > 15 for r in rounded)


def _rep(peak: float) -> RepMetrics:
    return RepMetrics(0, 1, 2, peak, peak / 2, 0, 0, 70, 0.9, 2)


def test_fatigue_slope():
    assert fatigue_slope([_rep(p) for p in (2, 4, 6, 8)]) == pytest.approx(2.0)
    assert fatigue_slope([_rep(1), _rep(2)]) != fatigue_slope([_rep(1), _rep(2)])  # NaN: too few
