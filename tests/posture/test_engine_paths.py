"""The live engine's per-sample (Python float) and array (numpy) paths give identical numbers.

Small blocks are computed one sample at a time (:mod:`posture.engine_scalar`), large ones with
numpy (:meth:`PostureEngine._compute_block`); chunking-independence rests on the two agreeing
bit for bit, so these tests compare them with ``assert_array_equal``, never a tolerance.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from posture import angles as A
from posture import engine as E
from posture import quat as Q
from posture import scalar_math as S
from posture.alignment import ClockMap
from posture.libm import LIBM
from posture.records import AngleBlock


def _quats(n: int, seed: int) -> np.ndarray:
    return Q.normalize(np.random.default_rng(seed).normal(size=(n, 4)))


def _rows(fn, *cols):
    return np.array([fn(*args) for args in zip(*cols, strict=True)], dtype=np.float64)


def test_scalar_math_equals_array_math_bit_for_bit():
    p, q = _quats(300, 1), _quats(300, 2)
    s = np.random.default_rng(3).uniform(0, 1, 300)
    d = np.random.default_rng(4).uniform(-4, 4, 300)
    tp, tq = [tuple(r) for r in p.tolist()], [tuple(r) for r in q.tolist()]
    np.testing.assert_array_equal(_rows(S.multiply, tp, tq), Q.multiply(p, q))
    np.testing.assert_array_equal(_rows(S.normalize, tp), Q.normalize(p))
    np.testing.assert_array_equal(_rows(S.slerp, tp, tq, s.tolist()), Q.slerp(p, q, s, LIBM))
    np.testing.assert_array_equal(
        _rows(S.sagittal_inclination, tp), A.sagittal_inclination(p, LIBM)
    )
    np.testing.assert_array_equal(
        _rows(S.heading_of_right_axis, tp), A.heading_of_right_axis(p, LIBM)
    )
    np.testing.assert_array_equal(
        _rows(S.spine_angles, tp), np.column_stack(A.spine_angles(p, LIBM))
    )
    neutral = _quats(1, 5)[0]
    pk, kk = A.heading_basis(p, q, neutral)
    basis = [S.heading_basis(a, b, tuple(neutral.tolist())) for a, b in zip(tp, tq, strict=True)]
    np.testing.assert_array_equal(np.array([b[0] for b in basis]), pk)
    np.testing.assert_array_equal(np.array([b[1] for b in basis]), kk)
    tpk, tkk = [b[0] for b in basis], [b[1] for b in basis]
    np.testing.assert_array_equal(
        _rows(S.at_heading, tpk, tkk, d.tolist()), A.at_heading(pk, kk, d)
    )
    np.testing.assert_array_equal(
        _rows(S.rezero_from_basis, tpk, tkk, d.tolist()),
        A.rezero_from_basis(pk, kk, d, trig=LIBM),
    )


@functools.cache  # (read only: the tests share one simulated minute)
def _session():
    from sim.wearer import SimConfig, calibrated_profile, simulate

    cfg = SimConfig(seed=11, drop_prob=0.01, clock_offset_s=0.013)
    prof = calibrated_profile(cfg)
    return prof.spine_model, simulate("lifting-session", cfg, duration_s=60.0).raw


def scalar_and_array(monkeypatch, model, settings, raw, chunk_s) -> tuple[AngleBlock, AngleBlock]:
    """A recording streamed in ``chunk_s`` chunks through the engine's scalar path (every block
    small) and through its array path (every block large)."""

    def run(small_block: int) -> AngleBlock:
        monkeypatch.setattr(E, "SMALL_BLOCK", small_block)
        eng = E.PostureEngine(model, settings)
        parts = [a for _, a in E.stream_in_chunks(eng, raw["lumbar"], raw["thoracic"], chunk_s)]
        return AngleBlock.concat(parts)

    return run(10**9), run(0)


@pytest.mark.parametrize(
    ("chunk_s", "clock"),
    [(0.02, None), (0.3, None), (0.02, ClockMap(0.013, 3e-5))],
)
def test_scalar_and_array_paths_agree_on_a_session(monkeypatch, chunk_s, clock):
    # (20 ms chunks: the live blocks fused to lists, OrientationFilter.process_small; a
    # thoracic clock map is applied to those lists as to the arrays)
    model, raw = _session()
    settings = E.EngineSettings(lumbar_rate_hz=200.0, thoracic_rate_hz=200.0, clock=clock)
    scalar, array = scalar_and_array(monkeypatch, model, settings, raw, chunk_s)
    assert len(scalar) > 10_000
    assert (scalar.flags & 4).sum() > 100  # re-zeros happened (standing and walking anchors)
    for name in (
        "t",
        "flexion",
        "lateral_flexion",
        "rotation",
        "thoracic_inclination",
        "lumbar_inclination",
        "rotation_confidence",
        "flags",
    ):
        np.testing.assert_array_equal(getattr(scalar, name), getattr(array, name), err_msg=name)


def test_written_out_segment_geometry_equals_the_composed_functions():
    ps, qs = _quats(200, 11), _quats(200, 12)
    ml, mt, neutral = (tuple(r) for r in _quats(3, 13).tolist())
    for a, b in zip(ps.tolist(), qs.tolist(), strict=True):
        q_l, q_t = S.multiply(tuple(a), S.conj(ml)), S.multiply(tuple(b), S.conj(mt))
        p, k = S.heading_basis(q_l, q_t, neutral)
        guess = S.heading_of_right_axis(q_l) - S.heading_of_right_axis(q_t)
        want = (S.sagittal_inclination(q_l), S.sagittal_inclination(q_t), guess, p, k)
        got = S.segment_geometry(tuple(a), tuple(b), S.conj(ml), S.conj(mt), S.conj(neutral))
        assert got == want


def test_written_out_gait_detector_equals_its_step():
    from posture.anchors import GaitDetector

    acc = np.random.default_rng(3).normal([0.0, 9.81, 0.0], 2.0, (500, 3))
    block, one = GaitDetector(200.0), GaitDetector(200.0)
    got = np.concatenate([block.process_rows(acc[i : i + 7].tolist()) for i in range(0, 500, 7)])
    want = np.array([one.step(*a) for a in acc.tolist()])
    np.testing.assert_array_equal(got, want)
    assert block.rms == one.rms


def test_written_out_confidence_equals_the_array_formula():
    from posture.rezero import confidence_since_anchor, confidence_since_anchor_one

    var = np.concatenate(([0.0], np.geomspace(1e-9, 1e4, 300)))
    want = confidence_since_anchor(var)
    assert [confidence_since_anchor_one(v) for v in var.tolist()] == want.tolist()


@pytest.mark.parametrize("seed", range(6))
def test_thoracic_lookup_equals_the_array_history(seed):
    """``engine_scalar.thoracic_at`` (per sample, lists) against ``ThoracicHistory.at`` (arrays):
    inside the history, on its samples, across a gap too long to slerp, before and after it."""
    from posture.engine_scalar import thoracic_at
    from posture.engine_state import ThoracicLists

    rng = np.random.default_rng(seed)
    n = 12
    t = 100.0 + np.cumsum(rng.choice([0.005, 0.005, 0.02, 0.3], n))
    quat = _quats(n, seed)
    rest, filled = rng.random(n) < 0.5, rng.random(n) < 0.3
    sigma = rng.uniform(0.001, 0.01, n)
    lists = ThoracicLists()
    lists.append(t, quat, rest, filled, sigma)
    hist = lists.arrays()
    probes = np.concatenate((t, rng.uniform(t[0] - 0.05, t[-1] + 0.05, 40), [t[0] - 1, t[-1] + 1]))
    want = hist.at(probes, 0.1, 0.004, LIBM)
    for j, x in enumerate(probes.tolist()):
        q, valid, r, s, f = thoracic_at(lists, x, 0.1, 0.004)
        assert (
            valid == bool(want.valid[j]) and r == bool(want.rest[j]) and f == bool(want.filled[j])
        )
        assert s == want.sigma[j]
        if valid:  # (where not, each path has its own stand-in)
            np.testing.assert_array_equal(np.array(q), want.quat[j])


def test_written_out_row_equals_the_composed_functions():
    """``engine_scalar._row`` against the scalar twins it writes out: ``HeadingState.at``,
    ``at_heading``, ``spine_angles`` and ``confidence_since_anchor_one``."""
    from posture.engine_scalar import _row
    from posture.engine_state import HeadingState
    from posture.rezero import confidence_since_anchor_one

    rng = np.random.default_rng(21)
    ps, ks = _quats(100, 22), _quats(100, 23)
    for p, k in zip(ps.tolist(), ks.tolist(), strict=True):
        h = HeadingState()
        h.delta, h.t_delta, h.rate = rng.uniform(-3, 3), 10.0, rng.uniform(-0.01, 0.01)
        t = 10.0 + rng.choice([1.0, 100.0])  # inside and past the drift-rate horizon
        anchored = rng.random() < 0.8
        h.drift_at_anchor = rng.uniform(0, 5) if anchored else None
        drift = 5.0 + rng.uniform(0, 50)
        p, k = tuple(p), tuple(k)
        got = _row(h, t, p, k, drift, 31.0, 12.0, 6)
        flex, lat, rot = S.spine_angles(S.at_heading(p, k, h.at(t)))
        conf = confidence_since_anchor_one(drift - h.drift_at_anchor) if anchored else 0.0
        assert got == (t, flex, lat, rot, 31.0, 12.0, 12.0, conf, 6.0)


def test_a_query_on_the_last_sample_after_a_long_gap_is_that_sample():
    """Exactly on a sample needs no bracket, the last one too (its bracket is the long gap
    before it): array and per-sample lookups agree, elsewhere in the gap nothing is made up."""
    from posture.alignment import interpolate_orientation
    from posture.engine_scalar import thoracic_at
    from posture.engine_state import ThoracicLists

    t = np.array([10.0, 10.005, 10.01, 10.5])  # a 0.49-s gap before the last sample
    quat = _quats(4, 3)
    q, valid = interpolate_orientation(t, quat, np.array([10.01, 10.2, 10.5]), 0.1)
    assert valid.tolist() == [True, False, True]
    assert abs(float(q[2] @ quat[3])) == pytest.approx(1.0, abs=1e-15)  # ±q: one rotation
    lists = ThoracicLists()
    lists.append(t, quat, np.zeros(4, bool), np.zeros(4, bool), np.full(4, 0.004))
    hist = lists.arrays()
    for x in (10.01, 10.2, 10.5):
        got, ok, *_ = thoracic_at(lists, x, 0.1, 0.004)
        want = hist.at(np.array([x]), 0.1, 0.004, LIBM)
        assert ok == bool(want.valid[0])
        if ok:
            np.testing.assert_array_equal(np.array(got), want.quat[0])


@pytest.mark.parametrize("role", ["lumbar", "thoracic"])
def test_fusing_a_live_block_to_lists_equals_fusing_it_to_a_block(role):
    """OrientationFilter.process_small gives process's numbers as lists and leaves the same
    state, and declines (feeding nothing) where a gap is to be bridged."""
    from posture.fusion import OrientationFilter, sensor_lever_arm
    from posture.records import ImuBlock

    model, raw = _session()
    blk = raw[role].take(slice(0, 4000))
    mount = model.mount_lumbar if role == "lumbar" else model.mount_thoracic
    a, b = (OrientationFilter(200.0, None, role, gait=role == "lumbar") for _ in range(2))
    for f in (a, b):
        f.set_lever_arm(sensor_lever_arm(role, mount))
    keep = np.ones(len(blk), bool)
    keep[1000:1006] = False  # a 35 ms gap: bridged by process, declined by process_small
    blk = ImuBlock(role, blk.t[keep], blk.acc[keep], blk.gyr[keep])
    declined = []
    for i in range(0, len(blk), 4):
        part = blk.take(slice(i, i + 4))
        want = a.process(part)
        got = b.process_small(part)
        if got is None:
            declined.append(i)
            got_block = b.process(part)
            np.testing.assert_array_equal(got_block.quat, want.quat)
            continue
        t, quats, rest, sigma, gait = got
        np.testing.assert_array_equal(np.array(t), want.t)
        np.testing.assert_array_equal(np.array(quats), want.quat)
        np.testing.assert_array_equal(np.array(rest), want.rest)
        np.testing.assert_array_equal(np.array(sigma), want.bias_sigma)
        if role == "lumbar":
            np.testing.assert_array_equal(np.array(gait), want.gait_rms)
        else:
            assert gait is None
    assert 1000 in declined  # the gap made here (the session's own drops make others)
    assert len(declined) < len(blk) // 4 // 10
    assert (a.last_t, a.rest, a.gait_rms) == (b.last_t, b.rest, b.gait_rms)
