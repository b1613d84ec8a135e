"""Relative-heading anchors and the expected rotation error between them.

6D fusion cannot observe heading, so the thorax–pelvis relative heading drifts with the
difference of the two gyroscopes' residual biases about the vertical. Physics gives anchors
where the true axial rotation is known:

* quiet upright standing: no axial twist (rotation = 0), sample by sample;
* walking: over each stride the thorax counter-rotates against the pelvis and back, so the
  rotation averaged over a few strides is neutral (0). Walking is recognised by the pelvis's
  vertical bounce at step frequency (band 1–3 Hz of the lumbar specific force) while both
  segments stay upright;
* the upright pause between two reps of a set: the lifter stands up square, so the mean
  rotation over the pause is neutral (a weak anchor: weighed against the error since the
  last one live, :func:`posture.rezero.pause_update`; :func:`pause_anchor_deltas` in batch).

Between anchors the error grows with the two filters' gyro-bias uncertainties (VQF's σ, rad/s).
Live, the heading error is modelled as a random walk: the residual bias about the vertical
decorrelates within seconds while the body moves (the segments tilt, so a different sensor axis
is vertical, and VQF re-estimates the horizontal components), so the error variance grows by
``2·τ·(σL² + σT²)`` per second (:func:`heading_variance_rate`, τ = :data:`BIAS_CORR_S`) instead
of the drift growing as ``σ·dt`` (a constant bias). Checked against the simulator's truth on the
tuning seeds (bench_accuracy 0–1, bench_alerts 100–103): ``σ·dt`` over-stated the error
1.4–3.7× from 20 s after an anchor on (true error p95 4.8° at 20–40 s against E95 ≈ 6.7°),
while the random walk still bounds ≥ 99 % of the samples in every time-since-anchor band.
Batch (both sides' anchors known) keeps a fixed small drift rate (:func:`rotation_error_deg`).
:func:`error_from_variance` turns the variance into an expected error (95 % bound, deg), which
is what ``rotation_confidence`` encodes: ``conf = 1 / (1 + (E95 / 2°)²)`` — 0.5 at 2°,
``E95 = 2° · sqrt(1/conf − 1)``.
"""

from __future__ import annotations

import cmath
import math
from typing import overload

import numpy as np
from numpy.typing import NDArray

from posture import angles as A
from posture.iirfilter import band_filtfilt
from posture.median import median
from posture.runs import true_runs

F64 = NDArray[np.float64]

#: Rotation error right at an anchor (1σ, deg): sensor noise, soft tissue, the neutral, and
#: the stride average of a walking anchor (up to ~0.8° off on tuning seed 103).
ANCHOR_SIGMA_DEG = 0.6
#: Correlation time of the residual gyro bias about the vertical while moving, s (fitted on the
#: tuning seeds: the error variance grows by 2·τ·σ² per second).
BIAS_CORR_S = 4.0
#: deg²/s of heading error variance per (rad/s)² of gyro-bias variance (heading_variance_rate).
HEADING_VAR_GAIN = 2.0 * BIAS_CORR_S * (180.0 / math.pi) ** 2
#: Pause anchors (live): a lifter standing up between the reps of a set holds the trunk over
#: the pelvis without twist (in the simulator the true rotation there is 0 ± 0.13°), so the
#: mean heading correction over such a brief upright pause is a weak anchor. Trunk
#: inclination that counts as a rep's hinge, deg; how long after one a pause may be, s.
PAUSE_HINGE_DEG = 30.0
PAUSE_WINDOW_S = 4.0
#: Shortest pause that counts, s; largest spread (variance) of the correction over it, rad²
#: (a twist is not a pause).
PAUSE_MIN_S = 0.1
PAUSE_MAX_VAR = math.radians(1.0) ** 2
#: Error of one pause anchor (1σ, deg): weighed against the error since the last anchor.
PAUSE_SIGMA_DEG = 1.0
#: A pause whose correction is further than this many σ from the prediction is ignored.
PAUSE_GATE = 3.0
#: Reference error of the confidence mapping: confidence 0.5 at this E95, deg.
CONF_REF_DEG = 2.0
#: Rotation alerts are withheld while the expected error exceeds this share of the limit.
UNCERTAIN_FRACTION = 0.3


@overload
def heading_variance_rate(sigma_l: float, sigma_t: float) -> float: ...
@overload
def heading_variance_rate(sigma_l: F64, sigma_t: F64 | float) -> F64: ...
def heading_variance_rate(sigma_l: F64 | float, sigma_t: F64 | float) -> F64 | float:
    """Growth of the relative-heading error variance, deg²/s: ``2·τ·(σL² + σT²)`` from the two
    filters' gyro-bias uncertainties ``sigma_l``, ``sigma_t`` (rad/s). Floats or arrays, in the
    same arithmetic (the per-pair and block paths give identical numbers)."""
    return (sigma_l * sigma_l + sigma_t * sigma_t) * HEADING_VAR_GAIN


def error_from_variance(var_deg2: F64 | float) -> F64 | float:
    """Expected rotation error (95 % bound, deg) after a heading error variance ``var_deg2``
    (deg²) accumulated since an anchor: ``E95 = 2 · sqrt(σ0² + var)``. Floats or arrays."""
    v = ANCHOR_SIGMA_DEG * ANCHOR_SIGMA_DEG + var_deg2
    return 2.0 * (math.sqrt(v) if isinstance(v, float) else np.sqrt(v))


def error_from_drift_deg(drift_deg: F64 | float) -> F64 | float:
    """Expected rotation error (95 % bound, deg) after ``drift_deg`` of 1σ heading drift since
    an anchor: ``E95 = 2 · sqrt(σ0² + drift²)``. Floats or arrays."""
    return error_from_variance(drift_deg * drift_deg)


def rotation_error_deg(dt_s: F64 | float, drift_deg_per_s: F64 | float) -> F64:
    """Expected rotation error (95 % bound, deg) ``dt_s`` after an anchor.

    :func:`error_from_drift_deg` of drift at the 1σ rate ``drift_deg_per_s`` (the two
    filters' bias uncertainties about the vertical). ``inf`` before any anchor.
    """
    dt = np.asarray(dt_s, dtype=np.float64)
    r = np.asarray(drift_deg_per_s, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        e = error_from_drift_deg(r * dt)
    return np.where(np.isfinite(dt), e, np.inf)


def confidence_from_error(err_deg: F64 | float) -> F64 | float:
    """``rotation_confidence`` 0..1 from the expected error (deg): 0.5 at 2°, 0 at ``inf``."""
    c = err_deg / CONF_REF_DEG
    return 1.0 / (1.0 + c * c)


def error_from_confidence(conf: F64 | float) -> F64:
    """Inverse of :func:`confidence_from_error`: expected rotation error (deg), 95 % bound."""
    c = np.minimum(np.maximum(np.asarray(conf, dtype=np.float64), 1e-12), 1.0)
    return CONF_REF_DEG * np.sqrt(1.0 / c - 1.0)


def error_from_confidence_one(conf: float) -> float:
    """:func:`error_from_confidence` of one value (live, once per block: no numpy calls)."""
    c = min(max(float(conf), 1e-12), 1.0)  # NaN stays NaN, as in np.maximum/np.minimum
    return CONF_REF_DEG * math.sqrt(1.0 / c - 1.0)


def rotation_uncertain(conf: F64, limit_deg: F64 | float) -> NDArray[np.bool_]:
    """Where the expected rotation error is a large part of the limit (alerts withheld).

    Args:
        conf: ``rotation_confidence`` ``(N,)``; limit_deg: the rotation limit(s), deg,
            broadcast against ``conf[:, None]`` (e.g. ``(2,)`` for both sides → ``(N, 2)``).
    """
    err = error_from_confidence(np.asarray(conf))
    return np.asarray(err[:, None] > UNCERTAIN_FRACTION * np.atleast_1d(limit_deg)[None, :])


def _box(x: F64, n: int) -> F64:
    """Centred moving sum over ``n`` samples (zero beyond the ends): ``c[hi] - c[lo]`` of the
    running sum ``c`` with ``lo = clip(i - n//2, 0, N)`` and ``hi = clip(i - n//2 + n, 0, N)``,
    gathered as slices (no index arrays: ~3× faster)."""
    size = x.size
    c = np.concatenate(([0.0], np.cumsum(x)))
    h = n // 2
    k = max(0, min(size, size + 1 - (n - h)))  # samples whose window ends inside the data
    upper = np.concatenate((c[n - h : n - h + k], np.full(size - k, c[size])))
    m = min(h, size)  # samples whose window starts before the data
    lower = np.concatenate((np.full(m, c[0]), c[: size - m]))
    return upper - lower


def gait_bounce(t: F64, acc_lumbar: F64) -> F64:
    """Step-bounce RMS of the lumbar specific force, m/s² ``(N,)`` (batch, non-causal):
    ``|acc|`` band-passed to 1–3 Hz, RMS over 2 s; zeros when too short or too slowly
    sampled to tell.

    Args:
        t: lumbar times, s ``(N,)``; acc_lumbar: lumbar specific force, m/s² ``(N, 3)``.
    """
    n = t.size
    if n < 16:  # sosfiltfilt needs more samples than its 15-sample padding (h17b fuzz)
        return np.zeros(n)
    fs = 1.0 / median(np.diff(t))
    if fs < 8.0:
        return np.zeros(n)
    mag = np.linalg.norm(acc_lumbar, axis=1)
    # scipy.signal's butter + sosfiltfilt to rounding, without its import (posture.iirfilter).
    band = band_filtfilt(mag - mag.mean(), fs, 1.0, min(3.0, 0.45 * fs))
    k = max(1, int(2.0 * fs))
    return np.asarray(np.sqrt(_box(band * band, k) / k))


def gait_mask(
    t: F64, bounce: F64, upright: NDArray[np.bool_], min_rms: float = 1.0
) -> NDArray[np.bool_]:
    """Walking samples (batch, non-causal): step-frequency bounce while upright.

    Args:
        t: lumbar times, s ``(N,)``; bounce: :func:`gait_bounce` ``(N,)``; upright: both
        segments near upright ``(N,)``; min_rms: band RMS that counts, m/s².
    """
    n = t.size
    walk = (bounce > min_rms) & upright
    # Keep runs of at least 4 s (short bursts are not gait).
    starts, stops = true_runs(walk)
    out = np.zeros(n, bool)
    for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
        if t[b - 1] - t[a] >= 4.0:
            out[a:b] = True
    return out


def gait_anchor_deltas(
    t: F64,
    bounce: F64,
    geo: A.Geometry,
    upright: NDArray[np.bool_],
    window_s: float = 4.0,
) -> tuple[NDArray[np.bool_], F64]:
    """Walking anchors (batch): where, and the heading correction that zeroes mean rotation.

    The per-sample correction that would zero the rotation swings with each stride; a
    triangular average over ``window_s`` (a few strides, side lobes falling as 1/f²) gives
    its mean. Only samples whose whole window lies inside the walking bout are anchors.

    Returns:
        ``(anchor mask (N,), correction rad (N,))``; the correction is NaN off the mask.
    """
    n = t.size
    out = np.full(n, np.nan)
    walk = gait_mask(t, bounce, upright)
    if not walk.any():
        return walk, out
    fs = 1.0 / median(np.diff(t))
    d = np.zeros(n)
    # (the heading basis of every sample is at hand: re-zero from it, the same numbers)
    d[walk] = np.unwrap(geo.rezero(walk))
    k = max(1, int(0.5 * window_s * fs))
    w = walk.astype(float)
    num = _box(_box(d * w, k), k)
    den = _box(_box(w, k), k)
    full = den >= k * k - 0.5  # the whole triangular window inside the bout
    anchor = walk & full
    out[anchor] = np.angle(np.exp(1j * num[anchor] / den[anchor]))
    return anchor, out


def pause_anchor_deltas(
    t: F64, geo: A.Geometry, valid: NDArray[np.bool_], moving_up: NDArray[np.bool_]
) -> F64:
    """Pause anchors (batch): the mean heading correction (rad) over each upright pause between
    two hinges of a set, at the pause's middle sample; NaN elsewhere.

    Args:
        t: times, s ``(N,)``; geo: the samples' geometry; valid: thoracic data ``(N,)``;
        moving_up: upright but not standing still ``(N,)``. A pause lies within
        :data:`PAUSE_WINDOW_S` of a hinge on both sides (so not in a walking bout), lasts
        :data:`PAUSE_MIN_S` and holds its correction within :data:`PAUSE_MAX_VAR`.
    """
    out = np.full(t.size, np.nan)
    th = t[valid & (geo.incl_t > PAUSE_HINGE_DEG)]
    if not th.size:
        return out
    k = np.searchsorted(th, t)
    before = t - th[np.maximum(k - 1, 0)]
    after = th[np.minimum(k, th.size - 1)] - t
    pause = moving_up & (k > 0) & (k < th.size) & (before <= PAUSE_WINDOW_S)
    pause &= after <= PAUSE_WINDOW_S
    starts, stops = true_runs(pause)
    if not starts.size:
        return out
    d = np.zeros(t.size)
    d[pause] = geo.rezero(pause)
    for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
        if t[b - 1] - t[a] < PAUSE_MIN_S:
            continue
        x = np.angle(np.exp(1j * (d[a:b] - d[a])))
        if x.var() <= PAUSE_MAX_VAR:
            out[(a + b) // 2] = d[a] + x.mean()
    return out


#: Step-bounce RMS of the lumbar specific force that counts as walking, m/s².
GAIT_MIN_RMS = 1.0


class GaitDetector:
    """Causal step-bounce detector on one sensor's specific force (live; explicit state).

    |acc| minus its slow mean (2 s), low-passed at ~3 Hz, and its RMS over ~1 s: walking
    bounces the pelvis at step frequency by several m/s²; hinges, twists and bends do not.
    One scalar step per sample, so per-sample and block use give identical numbers.
    """

    def __init__(self, rate_hz: float) -> None:
        ts = 1.0 / rate_hz
        self._a_g = ts / (2.0 + ts)
        self._a_lp = ts / (0.05 + ts)
        self._a_e = ts / (1.0 + ts)
        self._g: float | None = None
        self._lp = 0.0
        self._e = 0.0
        self.rms = 0.0

    def step(self, ax: float, ay: float, az: float) -> float:
        """Feed one sample (m/s²); return the current bounce RMS, m/s²."""
        m = math.sqrt(ax * ax + ay * ay + az * az)
        if self._g is None:
            self._g = m
        self._g += self._a_g * (m - self._g)
        self._lp += self._a_lp * ((m - self._g) - self._lp)
        self._e += self._a_e * (self._lp * self._lp - self._e)
        self.rms = math.sqrt(self._e)
        return self.rms

    def process_rows(self, acc: list[list[float]]) -> F64:
        """Bounce RMS after each sample of ``acc`` (rows of x, y, z, m/s²), m/s² ``(N,)``."""
        out = self.process_list(acc)
        return np.fromiter(out, np.float64, len(out))

    def process_list(self, acc: list[list[float]]) -> list[float]:
        """:meth:`process_rows` as a list: :meth:`step`'s arithmetic with the state in locals
        (the method call cost more than the sample)."""
        a_g, a_lp, a_e, sqrt = self._a_g, self._a_lp, self._a_e, math.sqrt
        g, lp, e = self._g, self._lp, self._e
        out = []
        for ax, ay, az in acc:
            m = sqrt(ax * ax + ay * ay + az * az)
            if g is None:
                g = m
            g += a_g * (m - g)
            lp += a_lp * ((m - g) - lp)
            e += a_e * (lp * lp - e)
            out.append(sqrt(e))
        self._g, self._lp, self._e = g, lp, e
        if out:
            self.rms = out[-1]
        return out


class GaitAverager:
    """Live walking anchor: the mean relative-heading correction over strides.

    The correction that would zero the rotation swings with each stride; two cascaded
    exponential averages (``tau_s`` each, on the unit circle) pass its mean and suppress the
    stride swing (to ~1 % at 0.9 Hz). After ``settle_s`` of continuous walking the average is
    an anchor. Any non-walking sample or a gap over 0.5 s restarts it.
    """

    def __init__(self, tau_s: float = 1.5, settle_s: float = 5.0) -> None:
        self.tau_s = tau_s
        self.settle_s = settle_s
        self._t0: float | None = None
        self._t_last = 0.0
        self._z1 = 0j
        self._z2 = 0j

    @property
    def active(self) -> bool:
        return self._t0 is not None

    @property
    def lag_s(self) -> float:
        """How far the average lags a steadily drifting correction, s (two cascaded
        exponential averages: 2·τ)."""
        return 2.0 * self.tau_s

    def reset(self) -> None:
        self._t0 = None

    def step(self, t: float, walking: bool, d: float) -> float | None:
        """Feed one sample: walking flag and the correction ``d`` (rad) that zeroes its
        rotation. Returns the averaged correction once settled, else None."""
        if not walking or (self._t0 is not None and t - self._t_last > 0.5):
            self._t0 = None
            if not walking:
                return None
        z = cmath.exp(1j * d)
        if self._t0 is None:
            self._t0, self._z1, self._z2 = t, z, z
        else:
            a = (t - self._t_last) / (self.tau_s + t - self._t_last)
            self._z1 += a * (z - self._z1)
            self._z2 += a * (self._z1 - self._z2)
        self._t_last = t
        if t - self._t0 < self.settle_s:
            return None
        return cmath.phase(self._z2)
