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
from itertools import chain
from typing import NamedTuple

import numpy as np

from posture import scalar_math as S
from posture.anchors import (
    ANCHOR_SIGMA_DEG,
    CONF_REF_DEG,
    GAIT_MIN_RMS,
    HEADING_VAR_GAIN,
    PAUSE_HINGE_DEG,
    PAUSE_WINDOW_S,
    GaitAverager,
)
from posture.angles import SpineModel
from posture.engine_state import HeadingState, LumbarQueue, ThoracicLists
from posture.records import (
    FLAG_FILLED,
    FLAG_GAP,
    FLAG_REZERO,
    FLAG_UNCALIBRATED,
    AngleBlock,
    unchecked,
)
from posture.rezero import (
    RATE_HORIZON_S,
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


#: Thoracic data at one lumbar time stamp (:class:`~posture.engine_state.ThoracicAt` of one
#: sample): quaternion, valid, rest, bias σ (rad/s), filled. A plain tuple: namedtuples cost
#: more to build than the rest of the lookup.
ThoracicSample = tuple[S.Quat, bool, bool, float, bool]


def thoracic_at(h: ThoracicLists, t: float, max_gap_s: float, prefused: float) -> ThoracicSample:
    """:meth:`~posture.engine_state.ThoracicHistory.at` for one time stamp (the rules of
    :func:`posture.alignment.interpolate_orientation`)."""
    ts = h.t
    n = len(ts)
    if n == 0:
        return (_NOT_A_QUAT, False, False, prefused, False)
    i = bisect.bisect_right(ts, t) - 1
    if 0 <= i < n - 1:  # the live case, inside the history: the general rules below, shortened
        t0 = ts[i]
        span = ts[i + 1] - t0  # > 0: ts[i] <= t < ts[i + 1]
        fl = h.filled
        if span <= max_gap_s + 1e-9 or t0 == t:
            q = S.slerp(h.quat[i], h.quat[i + 1], (t - t0) / span)
            return (q, True, h.rest[i], h.sigma[i], fl[i] or fl[i + 1])
        return (_NOT_A_QUAT, False, h.rest[i], h.sigma[i], fl[i] or fl[i + 1])
    idx = min(max(i, 0), n - 1)
    rest, sigma = h.rest[idx], h.sigma[idx]
    filled = h.filled[idx] or h.filled[min(idx + 1, n - 1)]
    if n == 1:
        ok = t == ts[0]
        return (h.quat[0] if ok else _NOT_A_QUAT, ok, rest, sigma, filled)
    exact_end = t == ts[-1]
    if exact_end:
        i = n - 2
    i_c = min(max(i, 0), n - 2)
    t0 = ts[i_c]
    span = ts[i_c + 1] - t0
    on_sample = exact_end or (i >= 0 and ts[min(i, n - 1)] == t)
    if not ((0 <= i < n - 1 and span <= max_gap_s + 1e-9) or on_sample):
        return (_NOT_A_QUAT, False, rest, sigma, filled)
    q = S.slerp(h.quat[i_c], h.quat[i_c + 1], (t - t0) / span if span > 0 else 0.0)
    return (q, True, rest, sigma, filled)


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


def _anchor(
    ctx: ScalarContext,
    lum: tuple[float, bool, float],
    upright: bool,
    rest_t: bool,
    geo: tuple[float, S.Quat, S.Quat],
    drift: float,
    pause: float | None,
) -> bool:
    """Re-zero at this sample if it is an anchor within the guard (as the array path).

    ``lum``: the lumbar sample's time (s), rest flag and gait RMS (m/s²); ``upright``:
    thoracic data valid and both segments within the inclination limit; ``rest_t``: the
    thoracic rest flag; ``geo``: heading guess (rad), ``P``, ``K``; ``pause``: the mean
    correction of a pause that ended here (rad; weighed in where no full anchor is).
    """
    gait = ctx.gait_anchors
    t, rest_l, gait_rms = lum
    h = ctx.heading
    if not (upright or (gait and ctx.gait.active)):  # no full anchor can start or run
        return pause is not None and h.pause_apply(t, pause, drift)
    guess, p, k = geo
    d_walk = None
    walking = gait and upright and gait_rms > GAIT_MIN_RMS
    if walking or (gait and ctx.gait.active):
        d = S.rezero_from_basis(p, k, guess) if walking else 0.0
        d_walk = ctx.gait.step(t, walking, d)
    if upright and rest_l and rest_t:  # quiet standing wins over walking
        needed: float | None = S.rezero_from_basis(p, k, guess)
    elif d_walk is not None:  # the stride average lags the drift (as accept_tracking)
        needed = lag_corrected(d_walk, ctx.gait.lag_s, h.rate)
    else:
        return pause is not None and h.pause_apply(t, pause, drift)
    if needed is None:
        return False
    drift_since = None if h.drift_at_anchor is None else drift - h.drift_at_anchor
    pred = h.at(t)
    if not within_guard(needed, pred, guard_rad(ctx.guard_deg, drift_since)):
        return False
    if pred is not None and h.drift_at_anchor is not None:  # (as accept_tracking)
        h.rate = track_rate(needed, pred, t - h.t_delta, h.rate)
    h.delta, h.t_delta, h.drift_at_anchor = needed, t, drift
    return True


def angle_row(ctx: ScalarContext, lum: LumbarSample, hist: ThoracicLists) -> tuple[float, ...]:
    """The angle row of one lumbar sample (``AngleBlock`` column order: t, flexion, lateral,
    rotation, thoracic incl., lumbar incl., hip, confidence, flags)."""
    return column_rows(ctx, [lum.t], [lum.quat], [lum.rest], [lum.sigma], [lum.gait], hist)[0]


def angle_rows(ctx: ScalarContext, lum: LumbarQueue, h: ThoracicLists) -> list[tuple[float, ...]]:
    """:func:`angle_row` of every sample of a (small) block, in order."""
    quats = [(w, x, y, z) for w, x, y, z in lum.quat.tolist()]
    cols = (lum.t, lum.rest, lum.sigma, lum.gait)
    t, rest, sigma, gait = (c.tolist() for c in cols)
    return column_rows(ctx, t, quats, rest, sigma, gait, h)


def column_rows(
    ctx: ScalarContext,
    ts: list[float],
    quats: list[S.Quat],
    rests: list[bool],
    sigmas: list[float],
    gaits: list[float],
    hist: ThoracicLists,
) -> list[tuple[float, ...]]:
    """Angle rows of lumbar samples given as columns: time (s), sensor quaternion, rest flag,
    gyro-bias σ (rad/s), gait RMS (m/s²). One loop with the settings in locals: the per-row
    calls and attribute look-ups cost as much as the arithmetic."""
    m = ctx.model
    mount_l, mount_t, neutral_c = m.mount_lumbar_c, m.mount_thoracic_c, m.neutral_c
    max_gap, prefused, lim = ctx.max_gap_s, ctx.prefused_sigma, ctx.max_inclination_deg
    gait_anchors, gait_avg, h = ctx.gait_anchors, ctx.gait, ctx.heading
    geometry, var_gain = S.segment_geometry, HEADING_VAR_GAIN
    base_flags = 0 if m.calibrated else FLAG_UNCALIBRATED
    out: list[tuple[float, ...]] = []
    for t, q_l, rest_l, sigma_l, gait_l in zip(ts, quats, rests, sigmas, gaits, strict=True):
        q_t, valid, rest_t, sigma_t, filled = thoracic_at(hist, t, max_gap, prefused)
        incl_l, incl_t, guess, p, k = geometry(q_l, q_t, mount_l, mount_t, neutral_c)
        if h.delta is None and valid:
            h.delta, h.t_delta, h.rate = guess, t, 0.0
        # HeadingState.drift_one with heading_variance_rate, written out (same arithmetic)
        t_prev = h.t_prev
        h.t_prev = t
        drift = h.drift = h.drift + (sigma_l * sigma_l + sigma_t * sigma_t) * var_gain * (
            0.0 if t_prev is None else t - t_prev
        )
        upright = valid and abs(incl_l) < lim and abs(incl_t) < lim
        # A pause between reps: upright, not standing still, not walking, soon after a hinge.
        if valid and incl_t > PAUSE_HINGE_DEG:
            h.t_hinge = t
        pause = None
        if (
            upright
            and not (rest_l and rest_t)
            and gait_l <= GAIT_MIN_RMS
            and t - h.t_hinge <= PAUSE_WINDOW_S
        ):
            h.pause_add(t, S.rezero_from_basis(p, k, guess))
        elif h.p_n:
            pause = h.pause_end()
        # _anchor's first test here, so the common case in a bend makes no call
        anchor = (upright or (gait_anchors and gait_avg.active) or pause is not None) and _anchor(
            ctx, (t, rest_l, gait_l), upright, rest_t, (guess, p, k), drift, pause
        )
        flags = base_flags | FLAG_REZERO if anchor else base_flags
        if valid and h.delta is not None:
            out.append(_row(h, t, p, k, drift, incl_t, incl_l, flags | (FLAG_FILLED * filled)))
        else:
            nan = math.nan
            out.append((t, nan, nan, nan, nan, incl_l, incl_l, 0.0, float(flags | FLAG_GAP)))
    return out


def block_of_rows(rows: list[tuple[float, ...]]) -> AngleBlock:
    """An :class:`AngleBlock` of angle rows (t, the ``ANGLE_COLUMNS``, flags)."""
    if not rows:
        return AngleBlock.empty()
    # one contiguous row per column; fromiter reads the flat values faster than np.array
    # finds the nested shape
    n = len(rows[0])
    flat = np.fromiter(chain.from_iterable(rows), np.float64, n * len(rows))
    cols = flat.reshape(-1, n).T.copy()
    t, flex, lat, rot, incl_t, incl_l, hip, conf, flags = cols
    return unchecked(
        AngleBlock, t, flex, lat, rot, incl_t, incl_l, hip, conf, flags.astype(np.uint8)
    )


_ANCHOR_VAR = ANCHOR_SIGMA_DEG * ANCHOR_SIGMA_DEG


def _row(
    h: HeadingState,
    t: float,
    p: S.Quat,
    k: S.Quat,
    drift: float,
    incl_t: float,
    incl_l: float,
    flags: int,
) -> tuple[float, ...]:
    """The angle row of a sample with thoracic data and a heading correction.

    :meth:`HeadingState.at`, :func:`scalar_math.at_heading` and ``spine_angles`` and
    :func:`confidence_since_anchor_one` written out in one body, in the same operations and
    order (so the same bits; the path twin tests hold it to the array path): their calls
    cost as much as their arithmetic, 200 times a second."""
    since = t - h.t_delta
    assert h.delta is not None
    delta = h.delta + h.rate * (RATE_HORIZON_S if RATE_HORIZON_S < since else since)
    c, s = math.cos(0.5 * delta), math.sin(0.5 * delta)
    w, x = c * p[0] + s * k[0], c * p[1] + s * k[1]
    y, z = c * p[2] + s * k[2], c * p[3] + s * k[3]
    r21 = 2.0 * (y * z + w * x)
    flex = -RAD2DEG * math.atan2(-2.0 * (x * y - w * z), 1.0 - 2.0 * (x * x + z * z))
    lat = RAD2DEG * math.asin(max(-1.0, min(1.0, r21)))
    rot = RAD2DEG * math.atan2(-2.0 * (x * z - w * y), 1.0 - 2.0 * (x * x + y * y))
    a = h.drift_at_anchor
    if a is None:
        conf = 0.0
    else:
        cr = 2.0 * math.sqrt(_ANCHOR_VAR + (drift - a)) / CONF_REF_DEG
        conf = 1.0 / (1.0 + cr * cr)
    return (t, flex, lat, rot, incl_t, incl_l, incl_l, conf, float(flags))
