"""The live engine's array path: a block of lumbar samples → an angle block, with numpy.

:class:`~posture.engine.PostureEngine` computes large blocks here (a whole recording through
:func:`posture.engine.analyze`, a backlog after a reconnect) and small ones sample by sample
(:mod:`posture.engine_scalar`). Both do the same phases with the same formulas in the same
order; this path takes ``arctan2``/``arcsin``/``arccos`` from :data:`posture.libm.LIBM`, so
the two give identical numbers (tested) and any chunking does too.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from posture import angles as A
from posture import rezero
from posture.anchors import (
    GAIT_MIN_RMS,
    PAUSE_HINGE_DEG,
    PAUSE_WINDOW_S,
    GaitAverager,
    heading_variance_rate,
)
from posture.engine_state import (
    PREFUSED_SIGMA,
    EngineSettings,
    HeadingState,
    LumbarQueue,
    ThoracicAt,
    ThoracicHistory,
)
from posture.libm import LIBM
from posture.records import AngleBlock
from posture.rezero import accept_tracking, angle_flags, confidence_since_anchor, forward_fill

F64 = NDArray[np.float64]
B = NDArray[np.bool_]
RAD2DEG = 180.0 / math.pi


def angle_block(
    lum: LumbarQueue,
    thoracic: ThoracicHistory,
    heading: HeadingState,
    gait: GaitAverager,
    model: A.SpineModel,
    s: EngineSettings,
) -> AngleBlock:
    """Angles of lumbar samples, in phases: thoracic data at their times, segment geometry,
    heading anchors (updating ``heading`` and ``gait``), then angles, confidence and flags."""
    t = lum.t
    th = thoracic.at(t, s.max_gap_s, PREFUSED_SIGMA, LIBM)
    geo = A.Geometry.of(lum.quat, np.where(th.valid[:, None], th.quat, 1.0), model, LIBM)
    h = heading
    # The heading state after each accepted anchor (NaN elsewhere): the correction, its time
    # and the drift rate; the correction in force is carried on from the last one.
    delta, t_delta, rate, at_anch = (np.full(t.size, np.nan) for _ in range(4))
    if h.delta is None:
        first_valid = np.flatnonzero(th.valid)
        if first_valid.size:
            j = int(first_valid[0])
            delta[j] = h.delta = float(geo.guess[j])
            t_delta[j] = h.t_delta = float(t[j])
            rate[j] = h.rate = 0.0
    # Heading error variance accumulates from the two filters' bias uncertainties (deg²).
    drift = h.drift_sums(t, heading_variance_rate(lum.sigma, th.sigma))
    before = (h.delta, h.t_delta, h.rate)
    anchor_before = h.drift_at_anchor
    anchor = _anchors(lum, th, geo, drift, (delta, t_delta, rate, at_anch), h, gait, s)
    d_ff = forward_fill(delta, before[0])
    t_ff = forward_fill(t_delta, before[1])
    r_ff = forward_fill(rate, before[2])
    if not np.isnan(d_ff[-1]):
        h.delta, h.t_delta, h.rate = float(d_ff[-1]), float(t_ff[-1]), float(r_ff[-1])
    # predicted(), elementwise in the same arithmetic
    delta_ff = d_ff + r_ff * np.minimum(t - t_ff, rezero.RATE_HORIZON_S)
    at_anchor = forward_fill(at_anch, anchor_before)
    if not np.isnan(at_anchor[-1]):
        h.drift_at_anchor = float(at_anchor[-1])
    ok = th.valid & ~np.isnan(delta_ff)
    flex, lat, rot = geo.angles(delta_ff, ok)
    conf = confidence_since_anchor(drift - at_anchor)
    conf = np.where(ok & ~np.isnan(at_anchor), conf, 0.0)
    flags = angle_flags(ok, th.filled, anchor, model.calibrated)
    incl_t = np.where(ok, geo.incl_t, np.nan)
    return AngleBlock(t, flex, lat, rot, incl_t, geo.incl_l, geo.incl_l.copy(), conf, flags)


def _anchors(
    lum: LumbarQueue,
    th: ThoracicAt,
    geo: A.Geometry,
    drift: F64,
    state: tuple[F64, F64, F64, F64],
    heading: HeadingState,
    gait: GaitAverager,
    s: EngineSettings,
) -> B:
    """Heading anchors of a block: quiet upright standing, else a settled walking average,
    else the end of a pause between reps (weighed in); those within the guard of the predicted
    correction are accepted and the heading state after each (correction, its time, drift
    rate, drift at the anchor) written into ``state``; returns their mask."""
    lim = s.rezero_max_inclination_deg
    upright = th.valid & (np.abs(geo.incl_l) < lim) & (np.abs(geo.incl_t) < lim)
    standing = upright & lum.rest & th.rest
    needed = np.full(lum.t.size, np.nan)
    if standing.any():
        needed[standing] = geo.rezero(standing)
    walk_anchor = None
    if s.gait_anchors:
        walk_anchor = _walking_anchors(
            lum, upright & (lum.gait > GAIT_MIN_RMS), standing, geo, needed, gait
        )
    pause = _pause_ends(lum, th, geo, upright & ~standing, needed, heading)
    anchor = ~np.isnan(needed) | ~np.isnan(pause)
    if anchor.any():
        cand = np.flatnonzero(anchor)
        ok, d_c, t_c, r_c, a_c = accept_tracking(
            needed[cand],
            lum.t[cand],
            heading.delta,
            heading.t_delta,
            heading.rate,
            s.rezero_guard_deg,
            drift[cand],
            heading.drift_at_anchor,
            None if walk_anchor is None else np.where(walk_anchor[cand], gait.lag_s, 0.0),
            pause[cand],
        )
        anchor[cand[~ok]] = False
        for col, vals in zip(state, (d_c, t_c, r_c, a_c), strict=True):
            col[cand[ok]] = vals[ok]
    return anchor


def _walking_anchors(
    lum: LumbarQueue, walking: B, standing: B, geo: A.Geometry, needed: F64, gait: GaitAverager
) -> B | None:
    """Walking anchors: the stride-averaged correction (sequential, the same steps as the
    per-sample path), where quiet standing has not already given one; returns their mask."""
    if not (walking.any() or gait.active):
        return None
    out = np.zeros(lum.t.size, bool)
    d = np.zeros(lum.t.size)
    if walking.any():
        d[walking] = geo.rezero(walking)
    step = gait.step
    for i, (ti, wi, di, si) in enumerate(
        zip(lum.t.tolist(), walking.tolist(), d.tolist(), standing.tolist(), strict=True)
    ):
        res = step(ti, wi, di)
        if res is not None and not si:
            needed[i] = res
            out[i] = True
    return out


def _pause_ends(
    lum: LumbarQueue, th: ThoracicAt, geo: A.Geometry, moving_up: B, needed: F64, h: HeadingState
) -> F64:
    """Pauses between reps (upright, not standing still, not walking, within
    :data:`~posture.anchors.PAUSE_WINDOW_S` of a hinge): summed sample by sample in
    ``h`` (the per-sample path's steps); returns each qualifying pause's mean correction (rad)
    at the sample where it ended, NaN elsewhere and where a full anchor candidate is."""
    t = lum.t
    out = np.full(t.size, np.nan)
    hinge = th.valid & (geo.incl_t > PAUSE_HINGE_DEG)
    t_hinge = forward_fill(np.where(hinge, t, np.nan), h.t_hinge)
    if hinge.any():
        h.t_hinge = float(t[hinge][-1])
    is_pause = moving_up & (lum.gait <= GAIT_MIN_RMS) & (t - t_hinge <= PAUSE_WINDOW_S)
    if not (is_pause.any() or h.p_n):
        return out
    d = np.zeros(t.size)
    d[is_pause] = geo.rezero(is_pause)
    # The pause samples and the first sample after each run of them.
    ends = ~is_pause & np.concatenate(([h.p_n > 0], is_pause[:-1]))
    for i in np.flatnonzero(is_pause | ends).tolist():
        if is_pause[i]:
            h.pause_add(float(t[i]), float(d[i]))
        else:
            m = h.pause_end()
            if m is not None and np.isnan(needed[i]):
                out[i] = m
    return out
