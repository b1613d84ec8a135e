"""The live engine's per-sample path: lumbar samples → angle rows, in Python floats.

On arrays of a few rows numpy's per-call overhead, not the arithmetic, is the cost, so the
engine computes small blocks (the 20 ms blocks of live streaming) and the pairs of
:meth:`~posture.engine.PostureEngine.push_pair` here, one sample at a time with
:mod:`posture.scalar_math`, and large blocks with numpy
(:func:`posture.engine_block.angle_block`). Both do the same phases with the same
formulas in the same order and the same rules (:mod:`posture.rezero`), and the array path
takes its inverse trigonometric functions from :data:`posture.libm.LIBM`, so the two give
identical numbers and any chunking does too (tested).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import NamedTuple

from posture import scalar_math as S
from posture.anchors import GAIT_MIN_RMS, GaitAverager, heading_variance_rate
from posture.angles import SpineModel
from posture.engine_state import HeadingState, LumbarQueue, ThoracicHistory
from posture.rezero import (
    angle_flags_one,
    confidence_since_anchor,
    guard_rad,
    lag_corrected,
    track_rate,
    within_guard,
)

RAD2DEG = 180.0 / math.pi
_NOT_A_QUAT = (1.0, 1.0, 1.0, 1.0)  # stands in where no thoracic data is (as the array path)


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

    @property
    def neutral_c(self) -> S.Quat:
        return S.conj(self.neutral)


class LumbarSample(NamedTuple):
    """One lumbar orientation sample: time (s), quaternion, rest flag, bias σ (rad/s), gait RMS."""

    t: float
    quat: S.Quat
    rest: bool
    sigma: float
    gait: float


@dataclass(frozen=True)
class ScalarHistory:
    """A :class:`~posture.engine_state.ThoracicHistory` as Python lists (one per column)."""

    t: list[float]
    quat: list[S.Quat]
    rest: list[bool]
    filled: list[bool]
    sigma: list[float]

    @classmethod
    def of(cls, h: ThoracicHistory) -> ScalarHistory:
        quat = [(w, x, y, z) for w, x, y, z in h.quat.tolist()]
        return cls(h.t.tolist(), quat, h.rest.tolist(), h.filled.tolist(), h.sigma.tolist())


class ThoracicSample(NamedTuple):
    """Thoracic data at one lumbar time stamp (:class:`~posture.engine_state.ThoracicAt`)."""

    quat: S.Quat
    valid: bool
    rest: bool
    sigma: float
    filled: bool


def thoracic_at(h: ScalarHistory, t: float, max_gap_s: float, prefused: float) -> ThoracicSample:
    """:meth:`ThoracicHistory.at` for one time stamp (the rules of
    :func:`posture.alignment.interpolate_orientation`)."""
    n = len(h.t)
    if n == 0:
        return ThoracicSample(_NOT_A_QUAT, False, False, prefused, False)
    i = bisect.bisect_right(h.t, t) - 1
    idx = min(max(i, 0), n - 1)
    rest, sigma = h.rest[idx], h.sigma[idx]
    filled = h.filled[idx] or h.filled[min(idx + 1, n - 1)]
    if n == 1:
        ok = t == h.t[0]
        return ThoracicSample(h.quat[0] if ok else _NOT_A_QUAT, ok, rest, sigma, filled)
    if t == h.t[-1]:
        i = n - 2
    i_c = min(max(i, 0), n - 2)
    t0 = h.t[i_c]
    span = h.t[i_c + 1] - t0
    on_sample = i >= 0 and h.t[min(i, n - 1)] == t
    valid = (0 <= i < n - 1 and span <= max_gap_s + 1e-9) or on_sample
    if not valid:
        return ThoracicSample(_NOT_A_QUAT, False, rest, sigma, filled)
    q = S.slerp(h.quat[i_c], h.quat[i_c + 1], (t - t0) / span if span > 0 else 0.0)
    return ThoracicSample(q, True, rest, sigma, filled)


@dataclass
class ScalarContext:
    """What the per-sample path reads and updates: settings, model and the engine's state."""

    model: ScalarModel
    max_gap_s: float
    max_inclination_deg: float
    guard_deg: float
    gait_anchors: bool
    prefused_sigma: float
    heading: HeadingState
    gait: GaitAverager


class _Geometry(NamedTuple):
    incl_l: float
    incl_t: float
    guess: float
    p: S.Quat
    k: S.Quat


def _anchor(
    ctx: ScalarContext, lum: LumbarSample, th: ThoracicSample, geo: _Geometry, drift: float
) -> bool:
    """Re-zero at this sample if it is an anchor within the guard (as the array path)."""
    lim = ctx.max_inclination_deg
    upright = th.valid and abs(geo.incl_l) < lim and abs(geo.incl_t) < lim
    gait = ctx.gait_anchors
    if not (upright or (gait and ctx.gait.active)):
        return False  # the common case in a bend: no anchor can start or run
    d_walk = None
    walking = gait and upright and lum.gait > GAIT_MIN_RMS
    if walking or (gait and ctx.gait.active):
        d = S.rezero_from_basis(geo.p, geo.k, geo.guess) if walking else 0.0
        d_walk = ctx.gait.step(lum.t, walking, d)
    h = ctx.heading
    if upright and lum.rest and th.rest:  # quiet standing wins over walking
        needed: float | None = S.rezero_from_basis(geo.p, geo.k, geo.guess)
    elif d_walk is not None:  # the stride average lags the drift (as accept_tracking)
        needed = lag_corrected(d_walk, ctx.gait.lag_s, h.rate)
    else:
        return False
    if needed is None:
        return False
    drift_since = None if h.drift_at_anchor is None else drift - h.drift_at_anchor
    pred = h.at(lum.t)
    if not within_guard(needed, pred, guard_rad(ctx.guard_deg, drift_since)):
        return False
    if pred is not None and h.drift_at_anchor is not None:  # (as accept_tracking)
        h.rate = track_rate(needed, pred, lum.t - h.t_delta, h.rate)
    h.delta, h.t_delta, h.drift_at_anchor = needed, lum.t, drift
    return True


def angle_row(
    ctx: ScalarContext,
    lum: LumbarSample,
    hist: ScalarHistory,
    neutral_c: S.Quat | None = None,
) -> tuple[float, ...]:
    """The angle row of one lumbar sample (``AngleBlock`` column order: t, flexion, lateral,
    rotation, thoracic incl., lumbar incl., hip, confidence, flags)."""
    m = ctx.model
    th = thoracic_at(hist, lum.t, ctx.max_gap_s, ctx.prefused_sigma)
    incl_l, incl_t, guess, p, k = S.segment_geometry(
        lum.quat,
        th.quat,
        m.mount_lumbar_c,
        m.mount_thoracic_c,
        m.neutral_c if neutral_c is None else neutral_c,
    )
    h = ctx.heading
    valid = th.valid
    if h.delta is None and valid:
        h.delta, h.t_delta, h.rate = guess, lum.t, 0.0
    drift = h.drift_one(lum.t, heading_variance_rate(lum.sigma, th.sigma))
    lim = ctx.max_inclination_deg
    # _anchor's first test here, so the common case in a bend builds no _Geometry and makes no call
    anchor = (
        (valid and abs(incl_l) < lim and abs(incl_t) < lim)
        or (ctx.gait_anchors and ctx.gait.active)
    ) and _anchor(ctx, lum, th, _Geometry(incl_l, incl_t, guess, p, k), drift)
    delta = h.at(lum.t)
    ok = valid and delta is not None
    if valid and delta is not None:  # (== ok, spelt out so the type checker narrows delta)
        flex, lat, rot = S.spine_angles(S.at_heading(p, k, delta))
        a = h.drift_at_anchor
        conf = 0.0 if a is None else float(confidence_since_anchor(drift - a))
    else:
        flex = lat = rot = incl_t = math.nan
        conf = 0.0
    flags = angle_flags_one(ok, th.filled, anchor, m.calibrated)
    return (lum.t, flex, lat, rot, incl_t, incl_l, incl_l, conf, float(flags))


def angle_rows(
    ctx: ScalarContext, lum: LumbarQueue, hist: ThoracicHistory
) -> list[tuple[float, ...]]:
    """:func:`angle_row` of every sample of a (small) block, in order."""
    h = ScalarHistory.of(hist)
    cols = zip(
        lum.t.tolist(),
        lum.quat.tolist(),
        lum.rest.tolist(),
        lum.sigma.tolist(),
        lum.gait.tolist(),
        strict=True,
    )
    n_c = ctx.model.neutral_c
    return [
        angle_row(ctx, LumbarSample(t, (q[0], q[1], q[2], q[3]), r, s, g), h, n_c)
        for t, q, r, s, g in cols
    ]
