"""Heading re-zero rules shared by the live engine (block and per-pair paths) and batch analysis.

Three rules that must read the same wherever they are applied:

* the **guard**: a re-zero (quiet standing or a walking anchor) may move the relative heading
  by at most ``rezero_guard_deg`` — a larger apparent rotation while standing still is a real
  twist — unless the expected heading error since the last anchor is itself larger, so a long
  stretch without anchors cannot lock re-zeroing out (:func:`guard_rad`,
  :func:`accept_within_guard`);
* the **confidence**: ``rotation_confidence`` from the heading error variance accumulated since
  the last anchor (:func:`confidence_since_anchor`, the error model of :mod:`posture.anchors`);
* the **flags** of each angle sample (:func:`angle_flags`).

"Drift" here is the relative-heading error variance accumulated since the last anchor, deg²:
live it is the running sum of :func:`heading_variance_rate` (the two filters' gyro-bias
uncertainties) × dt; batch uses the same rate of a fixed bias uncertainty × time. Differences of
the running sum are the variance since an anchor. Functions taking ``float | F64`` work on
Python floats (per-pair path) and arrays alike.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from posture.anchors import (
    ANCHOR_SIGMA_DEG,
    CONF_REF_DEG,
    PAUSE_GATE,
    PAUSE_SIGMA_DEG,
    confidence_from_error,
    error_from_variance,
    heading_variance_rate,
)
from posture.records import FLAG_FILLED, FLAG_GAP, FLAG_REZERO, FLAG_UNCALIBRATED

F64 = NDArray[np.float64]
B = NDArray[np.bool_]


__all__ = [
    "accept_tracking",
    "accept_within_guard",
    "angle_flags",
    "confidence_since_anchor",
    "forward_fill",
    "guard_rad",
    "heading_variance_rate",
    "pause_step",
    "pause_update",
    "predicted",
    "track_rate",
    "within_guard",
]

#: Time constant of the live relative-heading drift-rate estimate, s: anchors this far apart
#: or longer correct half the rate error they show (a few strides of walking or a stretch of
#: quiet standing measure the slope; a 30-s set between two anchors half-corrects it).
RATE_TAU_S = 30.0
#: How long after an anchor the drift rate is carried on, s; then the correction is held (a
#: rate learnt upright, carried through minutes of bending, would multiply its own error).
RATE_HORIZON_S = 45.0
#: Largest relative-heading drift rate believed, rad/s (the filters' bias uncertainty stays
#: well below this; a larger apparent rate is a real turn of the trunk against the pelvis).
MAX_RATE = math.radians(0.5)


def confidence_since_anchor(drift_deg2: F64 | float) -> F64 | float:
    """``rotation_confidence`` after a heading error variance ``drift_deg2`` (deg²) accumulated
    since the last anchor."""
    return confidence_from_error(error_from_variance(drift_deg2))


def confidence_since_anchor_one(drift_deg2: float) -> float:
    """:func:`confidence_since_anchor` of one float, its arithmetic written out (same
    operations in the same order, so the same bits; the live engine runs it every sample)."""
    c = 2.0 * math.sqrt(ANCHOR_SIGMA_DEG * ANCHOR_SIGMA_DEG + drift_deg2) / CONF_REF_DEG
    return 1.0 / (1.0 + c * c)


def guard_rad(guard_deg: float, drift_deg2: float | None) -> float:
    """Largest heading correction a re-zero may make, rad: the guard or the expected error.

    ``drift_deg2`` is the heading error variance since the last accepted anchor, deg²; ``None``
    (no anchor yet) lets any first re-zero through.
    """
    if drift_deg2 is None:
        return math.inf
    return math.radians(max(guard_deg, float(error_from_variance(max(drift_deg2, 0.0)))))


def within_guard(d: float, cur: float | None, guard: float) -> bool:
    """Whether moving the heading correction from ``cur`` to ``d`` (rad, wrapped) is within
    ``guard`` rad (always, when there is no current correction)."""
    return cur is None or abs((d - cur + math.pi) % (2 * math.pi) - math.pi) <= guard


def predicted(delta: float, t_delta: float, rate: float, t: float) -> float:
    """The live heading correction at time ``t`` (rad): the last anchor's ``delta`` (at
    ``t_delta``, s) carried on at the estimated drift ``rate`` (rad/s) for up to
    :data:`RATE_HORIZON_S`, then held."""
    return delta + rate * min(t - t_delta, RATE_HORIZON_S)


def lag_corrected(needed: float, lag_s: float, rate: float) -> float:
    """A correction measured as an average ``lag_s`` old (s), carried to now at ``rate``."""
    return needed + rate * lag_s if lag_s else needed


def track_rate(needed: float, pred: float, dt: float, rate: float) -> float:
    """The relative-heading drift rate (rad/s) after an anchor that needs ``needed`` where
    ``pred`` was predicted, ``dt`` s after the previous anchor.

    The 6D filters' relative heading drifts with the difference of their gyro-bias errors
    about the vertical, which 6D fusion cannot observe and which changes only slowly, so its
    rate is estimated from the anchors and carried on between them (a lifting set between two
    walking bouts is otherwise blind to it). A first-order tracker on the anchors' innovation:
    consecutive anchors correct the rate with time constant :data:`RATE_TAU_S`; an anchor after a
    long stretch without one corrects by ``dt / (τ + dt)`` of the rate error it shows.
    """
    nu = (needed - pred + math.pi) % (2 * math.pi) - math.pi
    r = rate + nu / (RATE_TAU_S + dt)
    return min(max(r, -MAX_RATE), MAX_RATE)


def pause_update(d: float, pred: float, drift_since: float) -> tuple[float, float] | None:
    """A pause anchor (:data:`posture.anchors.PAUSE_SIGMA_DEG`) weighed against the error since
    the last anchor, as a Kalman update of the relative heading.

    Args:
        d: the pause's mean heading correction, rad; pred: the correction in force, rad;
        drift_since: heading error variance since the last anchor, deg².

    Returns:
        ``(shift of the correction, rad; variance since the anchor afterwards, deg²)``, or
        ``None`` when the pause disagrees with the prediction by more than the gate.
    """
    p = ANCHOR_SIGMA_DEG * ANCHOR_SIGMA_DEG + max(drift_since, 0.0)
    r = PAUSE_SIGMA_DEG * PAUSE_SIGMA_DEG
    nu = (d - pred + math.pi) % (2 * math.pi) - math.pi
    nu_deg = nu * (180.0 / math.pi)
    if nu_deg * nu_deg > PAUSE_GATE * PAUSE_GATE * (p + r):
        return None
    post = p * r / (p + r)
    return nu * (p / (p + r)), max(post - ANCHOR_SIGMA_DEG * ANCHOR_SIGMA_DEG, 0.0)


def pause_step(
    d: float, t: float, drift: float, cur: float | None, t_cur: float, rate: float, a: float | None
) -> tuple[float, float] | None:
    """A pause anchor ``d`` (rad) at time ``t`` (s), running drift ``drift`` (deg²) against the
    heading state: the correction and drift at the anchor after it, or ``None`` (not taken)."""
    if cur is None or a is None:
        return None
    upd = pause_update(d, predicted(cur, t_cur, rate, t), drift - a)
    return None if upd is None else (cur + upd[0], drift - upd[1])


def accept_tracking(
    needed: F64,
    t: F64,
    cur: float | None,
    t_cur: float,
    rate: float,
    guard_deg: float,
    drift_at: F64,
    drift_at_anchor: float | None,
    lag: F64 | None = None,
    pause: F64 | None = None,
) -> tuple[B, F64, F64, F64, F64]:
    """Live anchors: accept candidate corrections (rad) within the guard of the predicted one
    (:func:`predicted`), tracking the drift rate (:func:`track_rate`), one candidate at a time
    in Python floats (the per-sample path does the same steps).

    Args:
        needed: candidate corrections, rad ``(M,)``; t: their times, s ``(M,)``.
        cur, t_cur, rate: the correction at the last anchor, its time, the drift rate
            (:class:`~posture.engine_state.HeadingState`); ``cur`` ``None``: no anchor yet.
        guard_deg, drift_at, drift_at_anchor: as :func:`accept_within_guard` (no guard
            before the first anchor).
        lag: how old each candidate's value is, s ``(M,)`` (a walking anchor is a running
            average; :func:`lag_corrected`); ``None``: all current.
        pause: a pause anchor's mean correction, rad ``(M,)`` (:func:`pause_update`; NaN
            where the candidate is a full anchor); ``None``: none.

    Returns:
        ``(accepted (M,), delta, t_delta, rate, drift_at_anchor (M,))``: the heading state
        after each candidate (NaN where it was not accepted).
    """
    m = needed.size
    out = np.zeros(m, dtype=bool)
    d_out = np.full(m, np.nan)
    t_out = np.full(m, np.nan)
    r_out = np.full(m, np.nan)
    a_out = np.full(m, np.nan)
    lags = np.zeros(m).tolist() if lag is None else lag.tolist()
    pz = np.full(m, np.nan).tolist() if pause is None else pause.tolist()
    cols = zip(needed.tolist(), t.tolist(), drift_at.tolist(), lags, pz, strict=True)
    for i, (d0, ti, h, lg, pi) in enumerate(cols):
        if pi == pi:  # a pause anchor (not NaN): a weighed shift, rate and t_delta kept
            upd = pause_step(pi, ti, h, cur, t_cur, rate, drift_at_anchor)
            if upd is None:
                continue
            cur, drift_at_anchor = upd
            out[i] = True
            d_out[i], t_out[i], r_out[i], a_out[i] = cur, t_cur, rate, drift_at_anchor
            continue
        d = lag_corrected(d0, lg, rate)
        pred = None if cur is None else predicted(cur, t_cur, rate, ti)
        g = math.inf if drift_at_anchor is None else guard_rad(guard_deg, h - drift_at_anchor)
        if not within_guard(d, pred, g):
            continue
        if pred is not None and drift_at_anchor is not None:  # not from the start guess
            rate = track_rate(d, pred, ti - t_cur, rate)
        cur, t_cur, drift_at_anchor = d, ti, h
        out[i] = True
        d_out[i], t_out[i], r_out[i], a_out[i] = d, ti, rate, h
    return out, d_out, t_out, r_out, a_out


def accept_within_guard(
    needed: F64,
    cur: float | None,
    guard_deg: float,
    drift_at: F64,
    drift_at_anchor: float | None,
    first_guard_deg: float | None = None,
) -> tuple[B, float | None, float | None]:
    """Accept candidate corrections (rad) that stay within the guard of the current one.

    Sequential (each accepted value moves the reference and restarts the drift), looping over
    the candidates only, so streaming and batch decide alike.

    Args:
        needed: candidate corrections, rad ``(M,)``.
        cur: the correction in force before the first candidate (``None``: none yet).
        guard_deg: ``rezero_guard_deg``.
        drift_at: accumulated heading error variance at each candidate, deg² ``(M,)``
            (differences of it are the variance since an anchor).
        drift_at_anchor: its value at the last accepted anchor (``None``: no anchor yet).
        first_guard_deg: guard before any anchor; ``None`` = no guard (live: the first
            re-zero sets the heading); batch passes ``guard_deg`` (relative to its start guess).

    Returns:
        ``(accepted (M,), correction after the last one, drift_at at the last anchor)``.
    """
    out = np.zeros(needed.size, dtype=bool)
    first = math.inf if first_guard_deg is None else math.radians(first_guard_deg)
    ds, hs = needed.tolist(), drift_at.tolist()
    # A candidate within the bare guard of the one before is accepted whenever that one was
    # (the guard is never smaller): such runs are taken whole, so batch analysis (tens of
    # thousands of quiet-standing candidates) decides candidate by candidate only at run breaks.
    # The margin covers numpy's and Python's remainder rounding differently, so the shortcut
    # only takes sure acceptances.
    step = np.abs((np.diff(needed) + math.pi) % (2 * math.pi) - math.pi)
    sure = np.flatnonzero(~(step <= math.radians(guard_deg) * (1 - 1e-9))) + 1  # run breaks
    i, m = 0, len(ds)
    while i < m:
        if i and out[i - 1]:
            j = int(sure[np.searchsorted(sure, i)]) if sure.size and sure[-1] >= i else m
            if j > i:
                out[i:j] = True
                cur, drift_at_anchor, i = ds[j - 1], hs[j - 1], j
                continue
        d, h = ds[i], hs[i]
        g = first if drift_at_anchor is None else guard_rad(guard_deg, h - drift_at_anchor)
        if within_guard(d, cur, g):
            out[i] = True
            cur = d
            drift_at_anchor = h
        i += 1
    return out, cur, drift_at_anchor


def angle_flags(ok: B, filled: B, anchor: B, calibrated: bool) -> NDArray[np.uint8]:
    """``AngleBlock.flags`` per sample: gap where not ``ok``, filled (ok only), re-zero at
    accepted anchors, uncalibrated everywhere without a profile."""
    flags = np.where(ok, np.where(filled, FLAG_FILLED, 0), FLAG_GAP).astype(np.uint8)
    flags[anchor] |= FLAG_REZERO
    if not calibrated:
        flags |= FLAG_UNCALIBRATED
    return flags


def forward_fill(x: F64, before: float | None) -> F64:
    """``x`` with each NaN replaced by the last value before it (``before`` at the start;
    NaN when ``before`` is ``None``): a correction holds until the next one."""
    pos = np.where(np.isnan(x), -1, np.arange(x.size))
    np.maximum.accumulate(pos, out=pos)
    return np.where(pos >= 0, x[np.maximum(pos, 0)], np.nan if before is None else before)
