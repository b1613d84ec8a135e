"""Streaming and batch paths must give the same numbers, bit for bit."""

from __future__ import annotations

import numpy as np

from posture.engine import EngineSettings, PostureEngine, analyze
from posture.fusion import OrientationFilter
from posture.records import AngleBlock, ImuBlock, OrientationBlock
from tests.poses import two_sensor_move, zxy_deg


def _noisy(raw, seed=0, drop=0.0):
    rng = np.random.default_rng(seed)
    out = {}
    for role, b in raw.items():
        keep = rng.random(len(b)) >= drop
        keep[:5] = True
        out[role] = ImuBlock(
            role,
            b.t[keep] + (0.0017 if role == "thoracic" else 0.0),
            b.acc[keep] + rng.normal(0, 0.05, (keep.sum(), 3)),
            b.gyr[keep] + rng.normal(0, 0.01, (keep.sum(), 3)),
        )
    return out


def process_in_random_chunks(f: OrientationFilter, b: ImuBlock, seed: int = 1) -> OrientationBlock:
    """``b`` fed to ``f`` in chunks of 1–29 samples (random, seeded), the outputs joined."""
    rng = np.random.default_rng(seed)
    parts, i = [], 0
    while i < len(b):
        k = int(rng.integers(1, 30))
        parts.append(f.process(b.take(slice(i, i + k))))
        i += k
    return OrientationBlock.concat(parts)


def test_filter_chunked_equals_batch():
    raw, _ = two_sensor_move(zxy_deg(flex=40, lat=10, rot=5))
    b = _noisy(raw, drop=0.05)["thoracic"]
    whole = OrientationFilter(200.0).process(b)
    chunked = process_in_random_chunks(OrientationFilter(200.0), b)
    np.testing.assert_array_equal(chunked.t, whole.t)
    np.testing.assert_array_equal(chunked.quat, whole.quat)
    np.testing.assert_array_equal(chunked.filled, whole.filled)


def test_per_sample_update_equals_batch():
    raw, _ = two_sensor_move(zxy_deg(flex=30))
    b = raw["lumbar"]
    whole = OrientationFilter(200.0).process(b)
    f = OrientationFilter(200.0)
    q = np.array([f.update(b.gyr[i], b.acc[i]) for i in range(len(b))])
    np.testing.assert_array_equal(q, whole.quat)


def _stream(raw, settings, chunk_s, seed):
    eng = PostureEngine(None, settings)
    rng = np.random.default_rng(seed)
    lum, tho = raw["lumbar"], raw["thoracic"]
    il = it = 0
    out = []
    t = lum.t[0]
    while il < len(lum) or it < len(tho):
        t += chunk_s * rng.uniform(0.2, 2.0)
        jl = int(np.searchsorted(lum.t, t, side="right"))
        jt = int(np.searchsorted(tho.t, t, side="right"))
        # Deliver in a random order, as BLE notifications arrive.
        pieces = [("l", il, jl), ("t", it, jt)]
        rng.shuffle(pieces)
        for who, a, b in pieces:
            if b > a:
                out.append(eng.push((lum if who == "l" else tho).take(slice(a, b))))
        il, it = jl, jt
    out.append(eng.flush())
    return AngleBlock.concat(out)


def test_engine_streaming_equals_batch():
    raw, _ = two_sensor_move(zxy_deg(flex=35, lat=-8, rot=6), still_s=3, hold_s=3)
    raw = _noisy(raw, seed=2, drop=0.03)
    settings = EngineSettings(lumbar_rate_hz=200.0, thoracic_rate_hz=200.0)
    batch = analyze(raw, None, settings)
    # Chunks stay within the engine's hold time (0.5 s), as live BLE delivery does.
    for chunk_s, seed in ((0.005, 3), (0.05, 4), (0.2, 5)):
        s = _stream(raw, settings, chunk_s, seed)
        np.testing.assert_array_equal(s.t, batch.t)
        np.testing.assert_array_equal(s.flags, batch.flags)
        np.testing.assert_array_equal(s.planes(), batch.planes())
        np.testing.assert_array_equal(s.rotation_confidence, batch.rotation_confidence)
    assert np.isfinite(batch.flexion[10:]).all()


def test_long_gap_is_flagged_not_invented():
    raw, _ = two_sensor_move(zxy_deg(flex=20), still_s=3, hold_s=2)
    tho = raw["thoracic"]
    gap = (tho.t > tho.t[0] + 2.0) & (tho.t < tho.t[0] + 2.3)  # 300 ms missing
    raw = {"lumbar": raw["lumbar"], "thoracic": tho.take(~gap)}
    a = analyze(raw, None, EngineSettings(lumbar_rate_hz=200.0, thoracic_rate_hz=200.0))
    from posture.records import FLAG_GAP

    in_gap = (a.t > tho.t[0] + 2.0) & (a.t < tho.t[0] + 2.3)
    assert np.isnan(a.flexion[in_gap]).all()
    assert (a.flags[in_gap] & FLAG_GAP).all()
    assert np.isfinite(a.flexion[~in_gap][1:]).all()
    np.testing.assert_array_equal(a.t, raw["lumbar"].t)  # lumbar's own time stamps


def test_short_gap_is_bridged():
    raw, _ = two_sensor_move(zxy_deg(flex=20), still_s=3, hold_s=2)
    tho = raw["thoracic"]
    gap = (tho.t > tho.t[0] + 2.0) & (tho.t < tho.t[0] + 2.05)  # 50 ms missing
    raw = {"lumbar": raw["lumbar"], "thoracic": tho.take(~gap)}
    a = analyze(raw, None, EngineSettings(lumbar_rate_hz=200.0, thoracic_rate_hz=200.0))
    assert np.isfinite(a.flexion[1:]).all()


def test_per_pair_fast_path_matches_batch():
    raw, _ = two_sensor_move(zxy_deg(flex=30, lat=5, rot=7), still_s=3, hold_s=3)
    raw = _noisy(raw, seed=6, drop=0.02)  # drops exercise the fallback to the block path
    lum, tho = raw["lumbar"], raw["thoracic"]
    n = min(len(lum), len(tho))
    lum, tho = lum.take(slice(0, n)), tho.take(slice(0, n))
    settings = EngineSettings(lumbar_rate_hz=200.0, thoracic_rate_hz=200.0)
    eng = PostureEngine(None, settings)
    for i in range(n):
        eng.push_pair(lum.t[i], lum.acc[i], lum.gyr[i], tho.t[i], tho.acc[i], tho.gyr[i])
    got = AngleBlock.concat([eng.drain(), eng.flush()])
    want = analyze({"lumbar": lum, "thoracic": tho}, None, settings)
    np.testing.assert_array_equal(got.t, want.t)
    np.testing.assert_array_equal(got.flags, want.flags)
    # Bit for bit: the per-pair path is the engine's per-sample twin (posture.engine_scalar).
    np.testing.assert_array_equal(got.planes(), want.planes())
    np.testing.assert_array_equal(got.rotation_confidence, want.rotation_confidence)
