"""Batch analysis of a whole recording: the best estimate, using past and future samples.

The live engine (:mod:`posture.engine`) can only look back: its 6D relative heading drifts
between re-zeros and is held at the last re-zero. Batch analysis knows the whole recording, so
:func:`analyze_offline`

1. fuses each sensor with VQF's offline variant (:func:`posture.offline_fusion.fuse_offline`: gyro
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

from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import NDArray

from posture import angles as A
from posture.acc_correction import correct_block, correct_raw
from posture.alignment import ClockMap, choose_clock
from posture.anchors import (
    confidence_from_error,
    gait_anchor_deltas,
    gait_bounce,
    heading_variance_rate,
    pause_anchor_deltas,
    rotation_error_deg,
)
from posture.engine import EngineSettings
from posture.engine_state import ThoracicAt, ThoracicHistory
from posture.errors import MissingSensorError
from posture.forked import Forked, Threaded
from posture.offline_fusion import fuse_offline
from posture.records import (
    LUMBAR,
    ROLES,
    THORACIC,
    AngleBlock,
    ImuBlock,
    OrientationBlock,
)
from posture.rezero import accept_within_guard, angle_flags

F64 = NDArray[np.float64]
B = NDArray[np.bool_]
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
    parallel: bool = False,
    early: Callable[[Mapping[str, F64]], object] | None = None,
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
        parallel: fuse the two sensors in forked child processes while this one fits the
            clock, and find the pause anchors and the rotation confidence on a second thread
            (:mod:`posture.forked`; the same numbers, sooner on two cores). For command-line
            use: a program with threads of its own should not fork.
        early: called with output columns as soon as each is known (``t`` and
            ``thoracic_inclination``, ``lumbar_inclination`` before the heading anchors, then
            ``rotation`` and ``rotation_confidence``; a mapping of field name to the very
            values of the returned block, not to be written to; a column may come again if
            redone; with ``parallel``, possibly from another thread), e.g. to format them
            meanwhile (:class:`posture.anglescsv.ColumnsAhead`).
    """
    for role in ROLES:
        if role not in raw or len(raw[role]) == 0:
            raise MissingSensorError(
                f"no {role} samples: spine angles need both the thoracic and the lumbar sensor"
            )
    s = settings or EngineSettings()
    model = model or A.SpineModel.uncalibrated()
    t, rest_l, bounce, th, geo, incl_t = _fused_geometry(raw, s, clock, model, parallel, early)
    if early is not None:
        early({"lumbar_inclination": geo.incl_l})
    lim = s.rezero_max_inclination_deg
    upright = th.valid & (np.abs(geo.incl_l) < lim) & (np.abs(geo.incl_t) < lim)
    standing = upright & rest_l & th.rest
    anchors, delta = _heading(t, geo, th.valid, upright, standing, bounce, s, parallel)
    confidence = Threaded(lambda: _confidence(t, t[anchors], th.valid, s, early), parallel)
    flex, lat, rot = geo.angles(delta, th.valid)
    if early is not None:
        early({"rotation": rot})
    flex, lat = _remove_standing_tilt(
        t, flex, lat, anchors[standing[anchors]], standing_flexion_deg
    )
    conf = confidence.result()
    is_anchor = np.zeros(t.size, bool)
    is_anchor[anchors] = True
    flags = angle_flags(th.valid, th.filled, is_anchor, model.calibrated)
    return AngleBlock(t, flex, lat, rot, incl_t, geo.incl_l, geo.incl_l.copy(), conf, flags)


def _fused_geometry(
    raw: Mapping[str, ImuBlock | OrientationBlock],
    s: EngineSettings,
    clock: str,
    model: A.SpineModel,
    parallel: bool = False,
    early: Callable[[Mapping[str, F64]], object] | None = None,
) -> tuple[F64, B, F64 | None, ThoracicAt, A.Geometry, F64]:
    """Fuse both sensors offline; return the lumbar times (s; bridged samples dropped), the
    lumbar rest flags and step bounce (:func:`_lumbar_side`), the thoracic data slerped onto
    those times, the geometry of each sample pair (as ``Geometry.of`` of the two sensors'
    orientations) and the thoracic inclination column (:func:`_thoracic_column`)."""
    lum_raw, tho_raw = raw[LUMBAR], raw[THORACIC]
    lum_rate, tho_rate = s.lumbar_rate_hz, s.thoracic_rate_hz
    corr = model.acc_correction or {}  # sensor accelerometer calibration, if any
    if parallel and isinstance(lum_raw, ImuBlock) and isinstance(tho_raw, ImuBlock):
        # Fusion holds the GIL: one forked child per sensor (each corrects its accelerometer;
        # the lumbar one also works out its segment and step bounce), the clock fit meanwhile
        # here (from the gyroscopes: uncorrected blocks will do), then the thoracic data
        # on the lumbar stamps while the lumbar child may still run. Those stamps are the raw
        # ones: fusion only adds bridged samples, which are dropped (checked below, then
        # redone if not).
        c_l, c_t = corr.get(LUMBAR), corr.get(THORACIC)
        with (
            Forked(
                lambda: _lumbar_side(correct_block(lum_raw, c_l), lum_rate, s, model)
            ) as lum_job,
            Forked(lambda: _fuse(correct_block(tho_raw, c_t), tho_rate, s)) as tho_job,
        ):
            cmap = _clock_map(lum_raw, tho_raw, s, clock)
            tho = tho_job.result()
            th, tho_side = _thoracic_side(tho, cmap, lum_raw.t, s, model)
            incl_t = _thoracic_column(lum_raw.t, th, tho_side, early)  # (while lumbar runs)
            t, rest_l, bounce, lum_side = lum_job.result()
        if np.array_equal(t, lum_raw.t):
            t = lum_raw.t  # (the same stamps: the array handed to early)
        else:
            th, tho_side = _thoracic_side(tho, cmap, t, s, model)
            incl_t = _thoracic_column(t, th, tho_side, early)
    else:
        raw = correct_raw(raw, corr)
        lum_raw, tho_raw = raw[LUMBAR], raw[THORACIC]
        cmap = _clock_map(lum_raw, tho_raw, s, clock)
        t, rest_l, bounce, lum_side = _lumbar_side(lum_raw, lum_rate, s, model)
        th, tho_side = _thoracic_side(_fuse(tho_raw, tho_rate, s), cmap, t, s, model)
        incl_t = _thoracic_column(t, th, tho_side, early)
    return t, rest_l, bounce, th, A.Geometry.join(lum_side, tho_side, model), incl_t


def _thoracic_column(
    t: F64, th: ThoracicAt, side: A.SegmentSide, early: Callable[[Mapping[str, F64]], object] | None
) -> F64:
    """The output's thoracic inclination (deg; NaN without thoracic data) at times ``t``
    (s), handed to ``early`` with those times."""
    incl_t = np.where(th.valid, side[1], np.nan)
    if early is not None:
        early({"t": t, "thoracic_inclination": incl_t})
    return incl_t


def _lumbar_side(
    block: ImuBlock | OrientationBlock, rate: float | None, s: EngineSettings, model: A.SpineModel
) -> tuple[F64, B, F64 | None, A.SegmentSide]:
    """Lumbar times (s) and rest flags without bridged samples, the step bounce there
    (:func:`posture.anchors.gait_bounce`, m/s²; ``None`` for pre-fused data, which has no
    accelerometer) and the segment's side."""
    lum = _fuse(block, rate, s)
    keep = ~lum.filled if lum.filled is not None else np.ones(len(lum), bool)
    t = lum.t[keep]
    rest_l = lum.rest[keep] if lum.rest is not None else np.zeros(t.size, bool)
    bounce = None
    if isinstance(block, ImuBlock):
        acc_l = np.column_stack([np.interp(t, block.t, block.acc[:, i]) for i in range(3)])
        bounce = gait_bounce(t, acc_l)
    return t, rest_l, bounce, A.segment_side(lum.quat[keep], model.mount_lumbar)


def _thoracic_side(
    tho: OrientationBlock, cmap: ClockMap, t: F64, s: EngineSettings, model: A.SpineModel
) -> tuple[ThoracicAt, A.SegmentSide]:
    """The thoracic data slerped onto lumbar times ``t`` (s) and the segment's side there
    (identity where there is no thoracic data)."""
    m = len(tho)
    hist = ThoracicHistory(
        cmap.to_lumbar(tho.t),
        tho.quat,
        tho.rest if tho.rest is not None else np.zeros(m, bool),
        tho.filled if tho.filled is not None else np.zeros(m, bool),
        np.zeros(m),
    )
    th = hist.at(t, s.max_gap_s, 0.0)
    q_t = np.where(th.valid[:, None], th.quat, 1.0)
    return th, A.segment_side(q_t, model.mount_thoracic)


def _clock_map(
    lum_raw: ImuBlock | OrientationBlock,
    tho_raw: ImuBlock | OrientationBlock,
    s: EngineSettings,
    clock: str,
) -> ClockMap:
    if s.clock is not None:
        return s.clock
    if isinstance(lum_raw, ImuBlock) and isinstance(tho_raw, ImuBlock):
        return choose_clock(lum_raw, tho_raw, clock)
    return ClockMap()


def _heading(
    t: F64,
    geo: A.Geometry,
    valid: B,
    upright: B,
    standing: B,
    bounce: F64 | None,
    s: EngineSettings,
    parallel: bool = False,
) -> tuple[NDArray[np.intp], F64]:
    """Heading anchors (indices) and the correction at every sample (rad), spread between them.

    Anchors: quiet standing (rotation = 0 sample by sample) and walking (mean rotation = 0),
    accepted within the guard of :mod:`posture.rezero`. ``parallel``: the pause anchors are
    found on a second thread meanwhile (the same numbers).
    """
    n = t.size
    pauses = Threaded(lambda: pause_anchor_deltas(t, geo, valid, upright & ~standing), parallel)
    d_anchor = np.full(n, np.nan)
    if standing.any():
        d_anchor[standing] = geo.rezero(standing)
    if bounce is not None:
        walk, d_walk = gait_anchor_deltas(t, bounce, geo, upright)
        use = walk & ~standing
        d_anchor[use] = d_walk[use]
    pause = pauses.result()  # between reps
    d_anchor = np.where(np.isnan(d_anchor), pause, d_anchor)
    cand = np.flatnonzero(~np.isnan(d_anchor))
    first_valid = np.flatnonzero(valid)
    start = float(geo.guess[first_valid[0]]) if first_valid.size else 0.0
    g = s.rezero_guard_deg
    drift = heading_variance_rate(np.radians(s.heading_drift_deg_per_s), 0.0) * t[cand]
    ok_c, _, _ = accept_within_guard(d_anchor[cand], start, g, drift, None, first_guard_deg=g)
    anchors = cand[ok_c]
    if anchors.size:
        return anchors, spread_heading(t, t[anchors], d_anchor[anchors])
    return anchors, np.full(n, start)


def _remove_standing_tilt(
    t: F64, flex: F64, lat: F64, st: NDArray[np.intp], standing_flexion_deg: float | None
) -> tuple[F64, F64]:
    """Quiet standing is also the calibration's standing pose (lateral flexion 0 by
    construction, flexion the profile's standing flexion): small offsets there — mostly
    accelerometer bias differing from the calibration's, a few tenths of a degree — are
    removed and spread between standing anchors ``st`` like the heading. Larger ones are a
    real lean or slouch and are kept."""
    st_lat = st[np.abs(lat[st]) <= TILT_GUARD_DEG]
    if st_lat.size:
        lat = lat - np.interp(t, t[st_lat], lat[st_lat])
    if standing_flexion_deg is not None:
        off = flex[st] - standing_flexion_deg
        st_f = st[np.abs(off) <= TILT_GUARD_DEG]
        if st_f.size:
            flex = flex - np.interp(t, t[st_f], off[np.abs(off) <= TILT_GUARD_DEG])
    return flex, lat


def _confidence(
    t: F64,
    ta: F64,
    valid: B,
    s: EngineSettings,
    early: Callable[[Mapping[str, F64]], object] | None = None,
) -> F64:
    """``rotation_confidence`` at times ``t`` (s) from the anchors at ``ta`` (0 without
    thoracic data), handed to ``early``."""
    err = rotation_error_deg(_anchor_distance(t, ta), s.heading_drift_deg_per_s)
    conf = np.where(valid, confidence_from_error(err), 0.0)
    if early is not None:
        early({"rotation_confidence": conf})
    return conf


def _anchor_distance(t: F64, ta: F64) -> F64:
    """Effective time from the anchors at times ``ta`` (s): the heading error of an
    interpolated correction grows from both ends, like a bridge between two known points."""
    if not ta.size:
        return np.full(t.size, np.inf)
    j = np.searchsorted(ta, t)
    before = np.where(j > 0, t - ta[np.maximum(j - 1, 0)], np.inf)
    after = np.where(j < ta.size, ta[np.minimum(j, ta.size - 1)] - t, np.inf)
    both = np.isfinite(before) & np.isfinite(after)
    b_, a_ = np.where(both, before, 0.0), np.where(both, after, 0.0)
    return np.where(both, b_ * a_ / np.maximum(b_ + a_, 1e-9), np.minimum(before, after))
