"""Batch analysis of a whole recording: the best estimate, using past and future samples.

The live engine (:mod:`posture.engine`) can only look back: its 6D relative heading drifts
between re-zeros and is held at the last re-zero. Batch analysis knows the whole recording, so
:func:`analyze_offline`

1. fuses each sensor with VQF's offline variant (:func:`posture.fusion.fuse_offline`: gyro
   bias estimated forward and backward);
2. finds heading *anchors*: quiet upright standing (no axial twist), as live, and walking
   (over each stride the thorax–pelvis rotation swings about neutral, so its mean over a few
   strides is the neutral relative heading; :mod:`posture.anchors`);
3. spreads the heading correction between anchors on both sides (linear in time) instead of
   holding it until the next one, so drift never accumulates into a step.

Live and batch therefore differ (documented with measured figures in README "How it works" and
docs/benchmarks/accuracy.md); the saved record of ``analyze`` is the batch estimate.
``rotation_confidence`` in batch output follows the same error model as live, with the
distance to the nearest anchor on either side.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from posture import angles as A
from posture.alignment import ClockMap, choose_clock, interpolate_orientation
from posture.anchors import (
    accept_within_guard,
    confidence_from_error,
    gait_anchor_deltas,
    rotation_error_deg,
)
from posture.engine import EngineSettings
from posture.errors import MissingSensorError
from posture.fusion import fuse_offline
from posture.records import (
    FLAG_FILLED,
    FLAG_GAP,
    FLAG_REZERO,
    FLAG_UNCALIBRATED,
    LUMBAR,
    ROLES,
    THORACIC,
    AngleBlock,
    ImuBlock,
    OrientationBlock,
)

F64 = NDArray[np.float64]
#: Largest lateral / flexion offset removed at quiet standing, deg (larger: a real lean).
TILT_GUARD_DEG = 1.0


def _fuse(
    block: ImuBlock | OrientationBlock, rate: float | None, s: EngineSettings
) -> OrientationBlock:
    if isinstance(block, OrientationBlock):
        return block
    return fuse_offline(block, rate or block.nominal_rate(), s.fusion)


def spread_heading(t: F64, t_anchor: F64, d_anchor: F64) -> F64:
    """Heading correction (rad) at times ``t`` from anchor values, linear between anchors.

    Anchor values are unwrapped first, so a correction crossing ±180° interpolates the short
    way; before the first anchor and after the last the nearest value is held.
    """
    d = np.unwrap(d_anchor)
    return np.interp(t, t_anchor, d)


def analyze_offline(
    raw: Mapping[str, ImuBlock | OrientationBlock],
    model: A.SpineModel | None = None,
    settings: EngineSettings | None = None,
    clock: str = "auto",
    standing_flexion_deg: float | None = None,
) -> AngleBlock:
    """Spine angles of a whole recording (deg), on the lumbar sensor's own time stamps.

    Args:
        raw: ``{"lumbar": ..., "thoracic": ...}`` raw or pre-fused blocks.
        model: calibration (``None`` = uncalibrated).
        settings: engine settings (fusion, gaps, re-zero limits); ``settings.clock``, when
            given, is used as is; otherwise ``clock`` decides (:func:`choose_clock`).
        clock: ``"auto"``, ``"fit"`` or ``"shared"``.
        standing_flexion_deg: the calibration's standing flexion (the profile's
            ``standing_flexion_deg``); when given, flexion offsets of up to
            ``TILT_GUARD_DEG`` at quiet standing are removed like lateral ones.
    """
    for role in ROLES:
        if role not in raw or len(raw[role]) == 0:
            raise MissingSensorError(
                f"no {role} samples: spine angles need both the thoracic and the lumbar sensor"
            )
    s = settings or EngineSettings()
    model = model or A.SpineModel.uncalibrated()
    lum_raw, tho_raw = raw[LUMBAR], raw[THORACIC]
    cmap = s.clock
    if cmap is None:
        if isinstance(lum_raw, ImuBlock) and isinstance(tho_raw, ImuBlock):
            cmap = choose_clock(lum_raw, tho_raw, clock)
        else:
            cmap = ClockMap()
    lum = _fuse(lum_raw, s.lumbar_rate_hz, s)
    tho = _fuse(tho_raw, s.thoracic_rate_hz, s)
    keep = ~lum.filled if lum.filled is not None else np.ones(len(lum), bool)
    t = lum.t[keep]
    q_ls = lum.quat[keep]
    rest_l = lum.rest[keep] if lum.rest is not None else np.zeros(t.size, bool)
    th_t = cmap.to_lumbar(tho.t)
    q_ts, valid = interpolate_orientation(th_t, tho.quat, t, s.max_gap_s)
    n = t.size
    idx = np.clip(np.searchsorted(th_t, t, side="right") - 1, 0, th_t.size - 1)
    nxt = np.minimum(idx + 1, th_t.size - 1)
    rest_t = tho.rest[idx] if tho.rest is not None else np.zeros(n, bool)
    if tho.filled is not None:
        filled = tho.filled[idx] | tho.filled[nxt]
    else:
        filled = np.zeros(n, bool)

    q_l, q_t = A.segment_quats(q_ls, np.where(valid[:, None], q_ts, 1.0), model)
    incl_l = A.sagittal_inclination(q_l)
    incl_t = A.sagittal_inclination(q_t)
    guess = A.heading_of_right_axis(q_l) - A.heading_of_right_axis(q_t)
    lim = s.rezero_max_inclination_deg
    upright = valid & (np.abs(incl_l) < lim) & (np.abs(incl_t) < lim)
    standing = upright & rest_l & rest_t

    # Anchors: quiet standing (rotation = 0 sample by sample), walking (mean rotation = 0).
    d_anchor = np.full(n, np.nan)
    if standing.any():
        d_anchor[standing] = A.rezero_delta(
            q_l[standing], q_t[standing], model.neutral, guess[standing]
        )
    lum_imu = lum_raw if isinstance(lum_raw, ImuBlock) else None
    if lum_imu is not None:
        acc_l = np.column_stack([np.interp(t, lum_imu.t, lum_imu.acc[:, i]) for i in range(3)])
        walk, d_walk = gait_anchor_deltas(t, acc_l, q_l, q_t, model.neutral, guess, upright)
        use = walk & ~standing
        d_anchor[use] = d_walk[use]
    else:
        walk = np.zeros(n, bool)
    cand = np.flatnonzero(~np.isnan(d_anchor))
    first_valid = np.flatnonzero(valid)
    start = float(guess[first_valid[0]]) if first_valid.size else 0.0
    ok_c = accept_within_guard(
        d_anchor[cand], start, np.radians(s.rezero_guard_deg), t[cand], s.heading_drift_deg_per_s
    )
    anchors = cand[ok_c]
    if anchors.size:
        delta = spread_heading(t, t[anchors], d_anchor[anchors])
    else:
        delta = np.full(n, start)

    flex = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    rot = np.full(n, np.nan)
    incl_t_out = np.full(n, np.nan)
    if valid.any():
        q_rel = A.relative(q_l[valid], q_t[valid], delta[valid])
        flex[valid], lat[valid], rot[valid] = A.angles_from_relative(q_rel, model.neutral)
        incl_t_out[valid] = incl_t[valid]
    # Quiet standing is also the calibration's standing pose (lateral flexion 0 by
    # construction, flexion the profile's standing flexion): small offsets there — mostly
    # accelerometer bias differing from the calibration's, a few tenths of a degree — are
    # removed and spread between standing periods like the heading. Larger ones are a real
    # lean or slouch and are kept.
    st = anchors[standing[anchors]]
    st_lat = st[np.abs(lat[st]) <= TILT_GUARD_DEG]
    if st_lat.size:
        lat = lat - np.interp(t, t[st_lat], lat[st_lat])
    if standing_flexion_deg is not None:
        off = flex[st] - standing_flexion_deg
        st_f = st[np.abs(off) <= TILT_GUARD_DEG]
        if st_f.size:
            flex = flex - np.interp(t, t[st_f], off[np.abs(off) <= TILT_GUARD_DEG])
    # Distance to the nearest anchor on each side: the heading error of an interpolated
    # correction grows from both ends, like a bridge between two known points.
    if anchors.size:
        ta = t[anchors]
        j = np.searchsorted(ta, t)
        before = np.where(j > 0, t - ta[np.maximum(j - 1, 0)], np.inf)
        after = np.where(j < ta.size, ta[np.minimum(j, ta.size - 1)] - t, np.inf)
        both = np.isfinite(before) & np.isfinite(after)
        b_, a_ = np.where(both, before, 0.0), np.where(both, after, 0.0)
        dist = np.where(both, b_ * a_ / np.maximum(b_ + a_, 1e-9), np.minimum(before, after))
    else:
        dist = np.full(n, np.inf)
    err = rotation_error_deg(dist, s.heading_drift_deg_per_s)
    conf = np.where(valid, confidence_from_error(err), 0.0)
    flags = np.zeros(n, np.uint8)
    flags[~valid] |= FLAG_GAP
    flags[filled & valid] |= FLAG_FILLED
    flags[anchors] |= FLAG_REZERO
    if not model.calibrated:
        flags |= FLAG_UNCALIBRATED
    return AngleBlock(t, flex, lat, rot, incl_t_out, incl_l, incl_l.copy(), conf, flags)
