"""Swing compensation in the live filter: less tilt error in a hinge, same numbers however
the input is chunked (its low-pass and angular-acceleration state crosses block boundaries)."""

from __future__ import annotations

import numpy as np

from posture import fusion as F
from posture import quat as Q
from posture.angles import SpineModel
from posture.engine import EngineSettings, PostureEngine, analyze, stream_in_chunks
from posture.fusion import OrientationFilter
from posture.records import AngleBlock, ImuBlock
from tests.poses import two_sensor_move, zxy_deg
from tests.posture.test_engine import process_in_random_chunks

G = 9.81
ARM = np.array([0.0, 0.0, 0.4])  # sensor 40 cm above the pivot (hips), sensor frame


def _hinges(rate: float = 100.0, n_reps: int = 12, seed: int = 0) -> tuple[ImuBlock, np.ndarray]:
    """A sensor pitching 0 → 60° → 0 about a pivot below it, rep after rep (3 s each, 2 s
    upright between), with gyro and accelerometer noise. Returns the block and the true
    orientations ``(N, 4)``."""
    fine = 1000.0
    t_f = np.arange(int((5.0 * n_reps + 10.0) * fine)) / fine
    ph = np.clip((t_f - 10.0) % 5.0, 0.0, 3.0) / 3.0
    theta = np.where(t_f < 10.0, 0.0, np.radians(30.0) * (1.0 - np.cos(2.0 * np.pi * ph)))
    q = Q.from_axis_angle(np.array([1.0, 0.0, 0.0]), theta)
    pos = Q.rotate(q, ARM)
    a_world = np.gradient(np.gradient(pos, 1.0 / fine, axis=0), 1.0 / fine, axis=0)
    acc_f = Q.rotate(Q.conj(q), a_world + np.array([0.0, 0.0, G]))
    w_f = np.gradient(theta, 1.0 / fine)
    k = np.arange(0, t_f.size, int(fine / rate))
    rng = np.random.default_rng(seed)
    gyr = np.column_stack((w_f[k], np.zeros(k.size), np.zeros(k.size)))
    blk = ImuBlock(
        "thoracic",
        t_f[k],
        acc_f[k] + rng.normal(0, 0.03, (k.size, 3)),
        gyr + rng.normal(0, 0.003, (k.size, 3)),
    )
    return blk, q[k]


def _pitch_error_deg(quat: np.ndarray, truth: np.ndarray) -> np.ndarray:
    d = Q.multiply(Q.conj(truth), quat)
    return np.degrees(2.0 * np.arcsin(np.clip(d[:, 1] * np.sign(d[:, 0]), -1.0, 1.0)))


def test_compensation_removes_the_tilt_pull_of_a_hinge():
    blk, truth = _hinges()
    theta = np.degrees(2.0 * np.arctan2(truth[:, 1], truth[:, 0]))
    late = blk.t > 30.0
    bottom, upright = late & (theta > 58.0), late & (theta < 1.0)
    f = OrientationFilter(100.0)
    plain = _pitch_error_deg(f.process(blk).quat, truth)
    f = OrientationFilter(100.0)
    f.set_lever_arm(ARM)
    comp = _pitch_error_deg(f.process(blk).quat, truth)
    # The swing pulls the plain filter's tilt: low at the bottom, high upright (≈ −0.3/+0.1°).
    assert plain[bottom].mean() - plain[upright].mean() < -0.3
    assert abs(comp[bottom].mean()) < 0.05 and abs(comp[upright].mean()) < 0.05


def test_compensated_filter_chunked_and_per_sample_equal_whole():
    blk, _ = _hinges(n_reps=3)
    drop = np.random.default_rng(2).random(len(blk)) < 0.03
    drop[:3] = False
    blk_d = blk.take(~drop)  # gaps: filled ones and the low-pass restart across them
    f = OrientationFilter(100.0)
    f.set_lever_arm(ARM)
    whole = f.process(blk_d)
    f = OrientationFilter(100.0)
    f.set_lever_arm(ARM)
    chunked = process_in_random_chunks(f, blk_d)
    np.testing.assert_array_equal(chunked.quat, whole.quat)

    g = OrientationFilter(100.0)
    g.set_lever_arm(ARM)
    want = g.process(blk).quat
    g = OrientationFilter(100.0)
    g.set_lever_arm(ARM)
    q = np.array([g.update(blk.gyr[i], blk.acc[i], t=blk.t[i]) for i in range(len(blk))])
    np.testing.assert_array_equal(q, want)


def _calibrated() -> SpineModel:
    m = Q.normalize(np.random.default_rng(5).normal(size=(2, 4)))
    return SpineModel(mount_thoracic=m[0], mount_lumbar=m[1])


def test_engine_with_swing_compensation_is_chunk_proof(monkeypatch):
    raw, _ = two_sensor_move(zxy_deg(flex=40, lat=5, rot=7), still_s=3, hold_s=3)
    rng = np.random.default_rng(6)
    raw = {
        r: ImuBlock(r, b.t, b.acc + rng.normal(0, 0.05, b.acc.shape), b.gyr) for r, b in raw.items()
    }
    model = _calibrated()
    settings = EngineSettings(lumbar_rate_hz=200.0, thoracic_rate_hz=200.0)
    want = comp = analyze(raw, model, settings)
    for chunk_s in (0.005, 0.02, 0.37):
        eng = PostureEngine(model, settings)
        parts = [a for _, a in stream_in_chunks(eng, raw["lumbar"], raw["thoracic"], chunk_s)]
        got = AngleBlock.concat(parts)
        np.testing.assert_array_equal(got.t, want.t)
        np.testing.assert_array_equal(got.planes(), want.planes())
    lum, tho = raw["lumbar"], raw["thoracic"]
    n = min(len(lum), len(tho))
    eng = PostureEngine(model, settings)
    for i in range(n):
        eng.push_pair(lum.t[i], lum.acc[i], lum.gyr[i], tho.t[i], tho.acc[i], tho.gyr[i])
    got = AngleBlock.concat([eng.drain(), eng.flush()])
    want = analyze(
        {"lumbar": lum.take(slice(0, n)), "thoracic": tho.take(slice(0, n))}, model, settings
    )
    np.testing.assert_array_equal(got.planes(), want.planes())
    # and the compensation is on in the engine: zero lever arms give other numbers
    monkeypatch.setattr(F, "LEVER_ARMS_M", {r: (0.0, 0.0, 0.0) for r in ("lumbar", "thoracic")})
    plain = analyze(raw, model, settings)
    assert not np.array_equal(plain.planes(), comp.planes())


def test_lever_arm_off_again_is_the_plain_filter():
    blk, _ = _hinges(n_reps=2)
    f = OrientationFilter(100.0)
    f.set_lever_arm(ARM)
    f.set_lever_arm(None)
    np.testing.assert_array_equal(f.process(blk).quat, OrientationFilter(100.0).process(blk).quat)


def test_per_sample_9d_update_equals_the_block():
    from dataclasses import replace

    from posture.fusion import FusionSettings

    blk, _ = _hinges(n_reps=1)
    mag = np.tile([20.0, -40.0, 5.0], (len(blk), 1))
    blk = replace(blk, mag=mag)
    s = FusionSettings(use_mag=True)
    want = OrientationFilter(100.0, s).process(blk).quat
    f = OrientationFilter(100.0, s)
    got = np.array(
        [f.update(blk.gyr[i], blk.acc[i], blk.mag[i], t=blk.t[i]) for i in range(len(blk))]
    )
    np.testing.assert_array_equal(got, want)
