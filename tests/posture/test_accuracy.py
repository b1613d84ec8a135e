"""End-to-end accuracy on the simulated wearer with realistic faults (short, for CI).

The full figures (10-minute sessions, several seeds and rates) come from
benchmarks/bench_engine.py; this keeps a regression guard in the test suite.
"""

from __future__ import annotations

import pytest

from calibration import calibrate
from posture.engine import analyze
from sim.evaluation import angle_rmse
from sim.wearer import SimConfig, simulate


@pytest.mark.parametrize("seed", [11, 12])
def test_calibrate_then_analyze_lifting_session(seed):
    cfg = SimConfig(
        seed=seed, rate_hz=100, clock_offset_s=0.05, clock_drift_ppm=-35, drop_prob=0.01
    )
    cal = simulate("calibration", cfg)
    prof = calibrate(cal.raw)
    assert abs(prof.standing_flexion_deg + cal.truth.neutral_flexion_from_standing_deg) < 1.0
    sess = simulate("lifting-session", cfg, duration_s=90)
    ang = analyze(sess.raw, prof.spine_model)
    r = angle_rmse(ang, sess.truth.angle_block(), skip_s=2.0)
    assert r["coverage"] > 0.97
    assert r["flexion"] < 1.5
    assert r["lateral_flexion"] < 1.5
    assert r["rotation"] < 2.5
