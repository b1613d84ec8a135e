"""The live engine's per-pair fast path: one lumbar sample → one angle row, in Python floats.

:meth:`posture.engine.PostureEngine.push_pair` feeds one sample of each sensor at a time; on
arrays of one row numpy's per-call overhead would dominate, so this module does the block
path's math (:meth:`posture.engine.PostureEngine._compute`) for a single sample with
:mod:`posture.scalar_math`, in the same phases and with the same shared rules
(:mod:`posture.rezero`), so both paths agree to ~1e-9° (tested).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from posture import scalar_math as S
from posture.anchors import GAIT_MIN_RMS, GaitAverager
from posture.angles import SpineModel
from posture.engine_state import HeadingState, ThoracicHistory
from posture.rezero import angle_flags_one, confidence_since_anchor, guard_rad, within_guard

RAD2DEG = 180.0 / math.pi


@dataclass(frozen=True)
class ScalarModel:
    """A :class:`~posture.angles.SpineModel` as 4-tuples: conjugated mountings and neutral."""

    mount_lumbar_c: S.Quat
    mount_thoracic_c: S.Quat
    neutral: S.Quat
    calibrated: bool

    @classmethod
    def of(cls, model: SpineModel) -> ScalarModel:
        return cls(
            S.conj(S.as_quat(model.mount_lumbar)),
            S.conj(S.as_quat(model.mount_thoracic)),
            S.as_quat(model.neutral),
            model.calibrated,
        )


@dataclass(frozen=True)
class LumbarSample:
    """One lumbar orientation sample: time (s), quaternion, rest flag, bias σ (rad/s), gait RMS."""

    t: float
    quat: S.Quat
    rest: bool
    sigma: float
    gait: float


@dataclass(frozen=True)
class _ThoracicAt:
    quat: S.Quat
    valid: bool
    rest: bool
    sigma: float
    filled: bool


def _thoracic_at(
    t: float, hist: ThoracicHistory, th_t: list[float], max_gap_s: float
) -> _ThoracicAt:
    """Slerp the thoracic history (times ``th_t``, ≥ 2 samples) onto lumbar time ``t``."""
    n = len(th_t)
    i = n - 2
    while i > 0 and th_t[i] > t:
        i -= 1
    t0, t1 = th_t[i], th_t[i + 1]
    span = t1 - t0
    idx = i + 1 if t >= t1 else i
    q = S.slerp(
        S.as_quat(hist.quat[i]), S.as_quat(hist.quat[i + 1]), (t - t0) / span if span > 0 else 0.0
    )
    return _ThoracicAt(
        q,
        span <= max_gap_s + 1e-9 or t == t0 or t == t1,
        bool(hist.rest[idx]),
        float(hist.sigma[idx]),
        bool(hist.filled[idx] or hist.filled[min(idx + 1, n - 1)]),
    )


@dataclass
class PairContext:
    """What the per-pair path reads and updates: settings, model and the engine's state."""

    model: ScalarModel
    max_gap_s: float
    max_inclination_deg: float
    guard_deg: float
    gait_anchors: bool
    heading: HeadingState
    gait: GaitAverager


def _anchor(
    ctx: PairContext,
    lum: LumbarSample,
    th: _ThoracicAt,
    geo: tuple[float, ...],
    p: S.Quat,
    k: S.Quat,
    drift: float,
) -> bool:
    """Re-zero at this sample if it is an anchor within the guard (as the block path)."""
    incl_l, incl_t, guess = geo
    lim = ctx.max_inclination_deg
    upright = th.valid and abs(incl_l) < lim and abs(incl_t) < lim
    d_walk = None
    walking = ctx.gait_anchors and upright and lum.gait > GAIT_MIN_RMS
    if walking or ctx.gait.active:
        d = S.rezero_from_basis(p, k, guess) if walking else 0.0
        d_walk = ctx.gait.step(lum.t, walking, d)
    if upright and lum.rest and th.rest:  # quiet standing wins over walking
        needed: float | None = S.rezero_from_basis(p, k, guess)
    else:
        needed = d_walk
    if needed is None:
        return False
    h = ctx.heading
    drift_since = None if h.drift_at_anchor is None else drift - h.drift_at_anchor
    if not within_guard(needed, h.delta, guard_rad(ctx.guard_deg, drift_since)):
        return False
    h.delta, h.drift_at_anchor = needed, drift
    return True


def angle_row(
    ctx: PairContext, lum: LumbarSample, hist: ThoracicHistory, th_t: list[float]
) -> tuple[float, ...]:
    """The angle row of one lumbar sample inside the thoracic history (``AngleBlock`` column
    order: t, flexion, lateral, rotation, thoracic incl., lumbar incl., hip, confidence, flags)."""
    m = ctx.model
    th = _thoracic_at(lum.t, hist, th_t, ctx.max_gap_s)
    q_l = S.multiply(lum.quat, m.mount_lumbar_c)
    q_t = S.multiply(th.quat, m.mount_thoracic_c)
    incl_l, incl_t = S.sagittal_inclination(q_l), S.sagittal_inclination(q_t)
    guess = S.heading_of_right_axis(q_l) - S.heading_of_right_axis(q_t)
    p, k = S.heading_basis(q_l, q_t, m.neutral)
    h = ctx.heading
    if h.delta is None and th.valid:
        h.delta = guess
    drift = h.drift_one(lum.t, math.sqrt(lum.sigma * lum.sigma + th.sigma * th.sigma) * RAD2DEG)
    anchor = _anchor(ctx, lum, th, (incl_l, incl_t, guess), p, k, drift)
    ok = th.valid and h.delta is not None
    if th.valid and h.delta is not None:
        flex, lat, rot = S.spine_angles(S.at_heading(p, k, h.delta))
        a = h.drift_at_anchor
        conf = 0.0 if a is None else float(confidence_since_anchor(drift - a))
    else:
        flex = lat = rot = incl_t = math.nan
        conf = 0.0
    flags = angle_flags_one(ok, th.filled, anchor, m.calibrated)
    return (lum.t, flex, lat, rot, incl_t, incl_l, incl_l, conf, float(flags))
