"""Wearer simulator: determinism, conventions, faults and truth."""

from __future__ import annotations

import numpy as np
import pytest

from posture import quat as Q
from posture.fusion import OrientationFilter
from sim.wearer import SCRIPTS, SimConfig, calibrated_profile, simulate


def test_deterministic_per_seed():
    a = simulate("deadlift-set", SimConfig(seed=3, rate_hz=100))
    b = simulate("deadlift-set", SimConfig(seed=3, rate_hz=100))
    c = simulate("deadlift-set", SimConfig(seed=4, rate_hz=100))
    np.testing.assert_array_equal(a.raw["thoracic"].gyr, b.raw["thoracic"].gyr)
    assert not np.array_equal(a.raw["thoracic"].gyr[:100], c.raw["thoracic"].gyr[:100])


def test_ideal_standing_reads_gravity_and_truth_offsets_neutral():
    r = simulate("calibration", SimConfig(ideal=True, rate_hz=100))
    lum = r.raw["lumbar"]
    still = lum.t < lum.t[0] + 4.0
    np.testing.assert_allclose(np.linalg.norm(lum.acc[still], axis=1), 9.81, atol=1e-6)
    np.testing.assert_allclose(np.abs(lum.gyr[still]).max(), 0.0, atol=1e-9)
    tr = r.truth
    np.testing.assert_allclose(tr.flexion[still], -r.wearer.neutral_from_standing, atol=1e-6)
    np.testing.assert_allclose(tr.lateral_flexion[still], 0.0, atol=1e-9)
    np.testing.assert_array_equal(tr.t, lum.t)  # truth on the lumbar sample times
    # Cat-cow reaches the wearer's limits, symmetric about neutral.
    assert tr.flexion.max() == pytest.approx(-tr.flexion.min(), abs=0.2)


def test_ideal_gyro_integrates_to_the_orientation():
    r = simulate("deadlift-set", SimConfig(ideal=True, rate_hz=400))
    b = r.raw["thoracic"]
    dt = 1 / 400
    q = np.empty((len(b), 4))
    q[0] = Q.multiply(r.truth.q_thoracic_seg[0], r.mounts["thoracic"])
    for i in range(1, len(b)):
        w = 0.5 * (b.gyr[i - 1] + b.gyr[i]) + 1e-15
        q[i] = Q.multiply(q[i - 1], Q.from_axis_angle(w, np.linalg.norm(w) * dt))
    want = Q.multiply(r.truth.q_thoracic_seg, r.mounts["thoracic"])
    err = np.degrees(Q.angle(Q.multiply(Q.conj(want), q)))
    assert err.max() < 0.2


def test_faults_drop_samples_and_shift_thoracic_clock():
    cfg = SimConfig(seed=1, rate_hz=100, drop_prob=0.05, clock_offset_s=0.05, clock_drift_ppm=40)
    r = simulate("deadlift-set", cfg)
    for b in r.raw.values():
        assert 0.9 * (b.seq[-1] + 1) < len(b) < (b.seq[-1] + 1)
        assert (np.diff(b.seq) >= 1).all()
    lum, tho = r.raw["lumbar"], r.raw["thoracic"]
    assert tho.t[0] - lum.t[0] == pytest.approx(0.05 + 40e-6 * lum.t[0], abs=1e-9)
    assert lum.t[0] > 100  # never starts at zero


@pytest.mark.parametrize("rate", [50.0, 400.0])
def test_rates(rate):
    r = simulate("standing", SimConfig(rate_hz=rate), duration_s=5)
    assert r.raw["lumbar"].nominal_rate() == pytest.approx(rate, rel=1e-6)


@pytest.mark.slow
def test_all_scripts_run_and_reps_are_sensible():
    for name in SCRIPTS:
        r = simulate(
            name, SimConfig(rate_hz=50), duration_s=60 if name == "lifting-session" else None
        )
        assert len(r.raw["lumbar"]) > 100
    r = simulate("deadlift-set", SimConfig(rate_hz=50))
    assert len(r.truth.reps) == 6 and sum(rep.rounded for rep in r.truth.reps) == 1
    for rep in r.truth.reps:
        assert rep.start_s < rep.bottom_s < rep.end_s and 0.5 < rep.hip_share <= 1.2
    assert r.truth.under_load.any() and not r.truth.under_load[:50].any()


def test_fusion_on_simulated_data_tracks_inclination():
    r = simulate("deadlift-set", SimConfig(seed=2, rate_hz=100))
    ob = OrientationFilter(100).process(r.raw["lumbar"])
    q_seg = Q.multiply(ob.quat, Q.conj(r.mounts["lumbar"]))
    from posture.angles import sagittal_inclination

    err = sagittal_inclination(q_seg) - r.truth.lumbar_inclination
    assert np.sqrt(np.mean(err[200:] ** 2)) < 1.5


def test_calibrated_profile_is_the_wearers_own_calibration():
    from calibration import CalibrationProfile, calibrate

    cfg = SimConfig(seed=2, rate_hz=100)

    def content(p: CalibrationProfile) -> dict:
        return {k: v for k, v in p.to_json_dict().items() if k != "created"}  # a time stamp

    want = content(calibrate(simulate("calibration", cfg).raw))
    assert content(calibrated_profile(cfg)) == want
    assert content(calibrated_profile(2, 100.0)) == want
    with pytest.raises(ValueError, match="rate_hz"):
        calibrated_profile(cfg, 100.0)


def test_fault_truths_are_the_draws_of_sensor_faults():
    """``acc_fault_truth`` and ``gyr_bias_truth`` (what diagnostics subtract) repeat exactly the
    draws ``sensor_faults`` makes for a session recording (key seed, 6, role)."""
    from dataclasses import replace

    from sim.sensors import acc_fault_truth, gyr_bias_truth, sensor_faults

    cfg = replace(SimConfig(seed=4), gyr_noise=0.0, acc_noise=0.0)
    n, rate = 400, 100.0
    for role in ("lumbar", "thoracic"):
        still = np.zeros((n, 3))
        gyr, acc = sensor_faults(cfg, role, still, still + 1.0, rate, [cfg.seed, 6, len(role)])
        np.testing.assert_array_equal(gyr, gyr_bias_truth(cfg, role, n, rate))
        assert np.ptp(gyr, axis=0).max() > 0  # the bias walks
        scale, bias = acc_fault_truth(cfg, role, n, rate)
        np.testing.assert_array_equal(acc, np.broadcast_to(scale + bias, (n, 3)))
