"""Time alignment of the two sensors' streams.

The lumbar sensor's clock is the reference. The thoracic clock reads
``t_T = offset + (1 + drift) · t_L``; :class:`ClockMap` holds that model and maps thoracic
time stamps onto the lumbar clock. Live, the bridge's clock model already maps both sensors to
host time, so the residual map is close to identity; for recordings whose sensors kept their
own clocks, :func:`estimate_clock_map` recovers offset and drift from the data itself by
cross-correlating the two gyroscopes' angular-rate magnitudes (both segments are driven by the
same movements) in windows spread over the recording and fitting a line through the lags.

:func:`interpolate_orientation` then resamples the thoracic orientations onto lumbar time
stamps by slerp, refusing to bridge any gap longer than ``max_gap_s`` (100 ms).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from posture import quat as Q
from posture.iirfilter import fft_len
from posture.libm import NUMPY, Trig
from posture.records import ImuBlock

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class ClockMap:
    """Thoracic clock model relative to the lumbar clock: ``t_T = offset + (1 + drift)·t_L``.

    Attributes:
        offset_s: thoracic minus lumbar clock at lumbar time 0, s.
        drift: relative rate error (dimensionless; 50 ppm = 50e-6).
        quality: 0..1, ``1 / (1 + (lag_sigma_s / 5 ms)²)``: 0.5 when the fitted lag is
            uncertain by 5 ms (one standard deviation); 1.0 for a map that is known, not fitted.
        lag_sigma_s: standard deviation of the fitted lag at the middle of the data, s, from
            the width and height of the correlation peaks, inflated by the scatter between
            windows (0 for a known map, ``inf`` when nothing could be fitted).
        drift_sigma: standard deviation of the fitted drift (0 when no drift was fitted).
        t_mid: lumbar time where ``lag_sigma_s`` holds (middle of the fitted windows), s.
        source: ``"fit"`` (estimated from the gyroscopes), ``"shared"`` (one time base,
            identity) or ``"given"``.
    """

    offset_s: float = 0.0
    drift: float = 0.0
    quality: float = 1.0
    lag_sigma_s: float = 0.0
    drift_sigma: float = 0.0
    t_mid: float = 0.0
    source: str = "given"

    @property
    def drift_ppm(self) -> float:
        return self.drift * 1e6

    @property
    def lag_at_mid_s(self) -> float:
        """Fitted thoracic-minus-lumbar lag at :attr:`t_mid`, s."""
        return self.offset_s + self.drift * self.t_mid

    def confidently_nonzero(self, n_sigma: float = 3.0) -> bool:
        """True when the fit shows a clock offset or drift beyond ``n_sigma`` deviations."""
        if not np.isfinite(self.lag_sigma_s):
            return False
        off = abs(self.lag_at_mid_s) > n_sigma * self.lag_sigma_s
        dr = self.drift_sigma > 0 and abs(self.drift) > n_sigma * self.drift_sigma
        return bool(off or dr)

    def to_lumbar(self, t_thoracic: F64) -> F64:
        """Map thoracic time stamps (s) onto the lumbar clock (s)."""
        t = np.asarray(t_thoracic, dtype=np.float64)
        if self.offset_s == 0.0 and self.drift == 0.0:
            return t  # (t − 0) / 1 is t exactly: skip two array operations per live block
        return (t - self.offset_s) / (1.0 + self.drift)

    def list_to_lumbar(self, t_thoracic: list[float]) -> list[float]:
        """:meth:`to_lumbar` of a few time stamps as Python floats (the same arithmetic)."""
        if self.offset_s == 0.0 and self.drift == 0.0:
            return t_thoracic
        off, scale = self.offset_s, 1.0 + self.drift
        return [(t - off) / scale for t in t_thoracic]


SHARED_CLOCK = ClockMap(source="shared")
CLOCK_MODES = ("auto", "fit", "shared")


def _uniform(t: F64, v: F64, grid: F64) -> F64:
    return np.interp(grid, t, v)


def _band(x: F64, fs: float) -> F64:
    """0.2–4 Hz band: body movements both segments share; drops drift and tissue wobble."""
    # scipy.signal's butter + sosfiltfilt, to rounding, without its ~1 s import.
    from posture.iirfilter import band_filtfilt

    return band_filtfilt(x, fs, 0.2, 4.0)


def _windows(
    t_l: F64, t_t: F64, max_offset_s: float, window_s: float, gap_s: float
) -> tuple[F64, F64]:
    """Window starts and lengths (lumbar clock, s), placed only where both sensors have data.

    The lumbar record is split at gaps longer than ``gap_s`` into segments; each segment gets
    half-overlapping windows (one shorter window when the segment is short). The count is
    bounded by the data's duration, never by the time span (a 30-day jump costs nothing).
    """
    brk = np.flatnonzero(np.diff(t_l) > gap_s)
    seg_a = np.concatenate(([t_l[0]], t_l[brk + 1]))
    seg_b = np.concatenate((t_l[brk], [t_l[-1]]))
    out: list[F64] = []
    lens: list[F64] = []
    for a, b in zip(seg_a.tolist(), seg_b.tolist(), strict=True):
        # The thoracic data that can pair with this segment (any offset up to max_offset_s).
        i0 = int(np.searchsorted(t_t, a - max_offset_s))
        i1 = int(np.searchsorted(t_t, b + max_offset_s, side="right"))
        if i1 - i0 < 10:
            continue
        a = max(a, float(t_t[i0]) - max_offset_s)
        b = min(b, float(t_t[i1 - 1]) + max_offset_s)
        if b - a < 4 * max_offset_s:
            continue
        win = min(window_s, b - a - 2 * max_offset_s)
        starts = np.arange(a + max_offset_s, b - max_offset_s - win + 1e-9, window_s / 2)
        starts = starts if starts.size else np.array([a + max_offset_s])
        out.append(starts)
        lens.append(np.full(starts.size, win))
    if not out:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(out), np.concatenate(lens)


def estimate_clock_map(
    lumbar: ImuBlock,
    thoracic: ImuBlock,
    *,
    max_offset_s: float = 1.0,
    window_s: float = 30.0,
    grid_hz: float = 200.0,
    min_corr: float = 0.5,
    gap_s: float = 5.0,
) -> ClockMap:
    """Fit the thoracic clock's offset and drift against the lumbar clock.

    Both gyro magnitudes are resampled onto a uniform grid, band-passed to 0.2–4 Hz (the body
    movements both segments share; soft-tissue wobble and noise are independent per sensor and
    would bias the peak), and cross-correlated in windows of ``window_s`` placed where both
    sensors have data (lag and uncertainty per window: :func:`_lag_of_peak`). A weighted line
    through (window centre, lag) gives offset and drift (:func:`_fit_lag_line`); the drift is
    kept only when it is significant (2σ) over at least 60 s of windows. The result is the raw
    fit (``source="fit"``); :func:`choose_clock` decides whether to use it.

    Args:
        lumbar, thoracic: raw blocks on their own clocks.
        max_offset_s: largest clock offset searched, s.
        window_s: analysis window length, s.
        grid_hz: resampling rate of the correlation, Hz.
        min_corr: smallest normalised correlation peak trusted.
        gap_s: gaps in the lumbar data longer than this split the recording into segments, s.
    """
    none = ClockMap(quality=0.0, lag_sigma_s=np.inf, source="fit")
    if len(lumbar) < 10 or len(thoracic) < 10:
        return none
    starts, lengths = _windows(lumbar.t, thoracic.t, max_offset_s, window_s, gap_s)
    g_l = np.linalg.norm(lumbar.gyr, axis=1)
    g_t = np.linalg.norm(thoracic.gyr, axis=1)
    centres, lags, sigmas = [], [], []
    for w0, w_len in zip(starts.tolist(), lengths.tolist(), strict=True):
        pair = _window_signals(lumbar.t, g_l, thoracic.t, g_t, w0, w_len, max_offset_s, grid_hz)
        if pair is None:
            continue
        found = _lag_of_peak(*pair, int(np.ceil(max_offset_s * grid_hz)), grid_hz, w_len, min_corr)
        if found is not None:
            centres.append(w0 + w_len / 2)
            lags.append(found[0])
            sigmas.append(found[1])
    if not lags:
        return none
    c, lag, sg = np.asarray(centres), np.asarray(lags), np.asarray(sigmas)
    c_mid = float(np.average(c, weights=1 / sg**2))
    use_drift = len(lags) >= 3 and c.max() - c.min() >= 60.0
    l0, slope, lag_sd, slope_sd = _fit_lag_line(c - c_mid, lag, sg, use_drift)
    # lag(t) = t_T - t_L = offset + drift·t_L
    return ClockMap(
        offset_s=float(l0 - slope * c_mid),
        drift=float(slope),
        quality=float(1.0 / (1.0 + (lag_sd / 0.005) ** 2)),
        lag_sigma_s=lag_sd,
        drift_sigma=slope_sd,
        t_mid=c_mid,
        source="fit",
    )


def _window_signals(
    t_l: F64,
    g_l: F64,
    t_t: F64,
    g_t: F64,
    w0: float,
    w_len: float,
    max_offset_s: float,
    grid_hz: float,
) -> tuple[F64, F64] | None:
    """Both gyro magnitudes of one window on a uniform grid, band-passed (the thoracic one
    ``max_offset_s`` longer at both ends); ``None`` where the window is mostly a gap or still."""
    dt = 1.0 / grid_hz
    max_lag = int(np.ceil(max_offset_s * grid_hz))
    n_win = int(w_len * grid_hz)
    grid_l = np.arange(n_win, dtype=np.float64)
    grid_l = w0 + grid_l * dt
    grid_t = np.arange(n_win + 2 * max_lag, dtype=np.float64)
    grid_t = w0 - max_offset_s + grid_t * dt
    # Interpolate from the samples near the window only (work bounded by the data).
    il = slice(
        max(0, int(np.searchsorted(t_l, grid_l[0])) - 1), int(np.searchsorted(t_l, grid_l[-1])) + 1
    )
    it = slice(
        max(0, int(np.searchsorted(t_t, grid_t[0])) - 1), int(np.searchsorted(t_t, grid_t[-1])) + 1
    )
    if il.stop - il.start < 0.5 * w_len * 5 or it.stop - it.start < 0.5 * w_len * 5:
        return None  # mostly a gap
    a = _band(_uniform(t_l[il], g_l[il], grid_l), grid_hz)
    b = _band(_uniform(t_t[it], g_t[it], grid_t), grid_hz)
    if np.std(a) < 1e-4 or np.std(b) < 1e-4:
        return None
    return a, b


def _lag_of_peak(
    a: F64, b: F64, max_lag: int, grid_hz: float, w_len: float, min_corr: float
) -> tuple[float, float] | None:
    """Lag of ``b`` behind ``a`` (s) at the normalised cross-correlation peak, refined by a
    parabola, and its standard deviation (s); ``None`` without a clear peak.

    The uncertainty follows from the peak's height ρ and sharpness (time-delay estimation:
    ``σ² = (1 − ρ²) / (ρ² · 2BT · β²)`` with bandwidth B = 4 Hz, window length T and
    ``β² = −r''(peak)/ρ``).
    """
    dt = 1.0 / grid_hz
    # Normalised cross-correlation via FFT over every lag in [-max_lag, max_lag].
    n_fft = fft_len(a.size + b.size)
    corr = np.fft.irfft(np.fft.rfft(b, n_fft) * np.conj(np.fft.rfft(a, n_fft)), n_fft)
    corr = corr[: 2 * max_lag + 1]
    csum = np.concatenate(([0.0], np.cumsum(b * b)))
    energy_b = csum[a.size : a.size + corr.size] - csum[: corr.size]
    denom = np.sqrt(np.maximum(energy_b, 1e-30) * np.sum(a * a))
    ncorr = corr / denom
    k = int(np.argmax(ncorr))
    peak = float(ncorr[k])
    if peak < min_corr or k == 0 or k == ncorr.size - 1:
        return None
    y0, y1, y2 = ncorr[k - 1], ncorr[k], ncorr[k + 1]
    den = y0 - 2 * y1 + y2
    if den >= 0:
        return None  # no curvature: a flat top, no usable peak
    frac = 0.5 * (y0 - y2) / den
    beta2 = -den / dt**2 / peak
    n_eff = 2.0 * 4.0 * w_len
    rho = min(peak, 0.999)
    sig = float(np.sqrt((1.0 - rho**2) / (rho**2 * n_eff * beta2)))
    return float((k + frac - max_lag) * dt), max(sig, 0.1 * dt)  # sub-sample floor


def _fit_lag_line(
    x_all: F64, lag: F64, sg: F64, use_drift: bool
) -> tuple[float, float, float, float]:
    """Weighted line ``lag = l0 + slope·x`` through the window lags (x: window centre minus
    the weighted mean centre, s), dropping windows over 4σ off it; the drift is kept only when
    significant (2σ). Uncertainties are inflated by the scatter between windows (reduced
    χ² > 1), so windows that disagree — as on real recordings whose segments do not move in
    lockstep — show up as an uncertain fit instead of a confident one.

    Returns:
        ``(l0, slope, sd of l0, sd of slope)``.
    """
    keep = np.ones(lag.size, dtype=bool)
    slope, scale = 0.0, 1.0
    for _ in range(3):
        w = 1.0 / sg[keep] ** 2
        x = x_all[keep]
        if use_drift and keep.sum() >= 3:
            sw, sx, sxx = w.sum(), (w * x).sum(), (w * x * x).sum()
            sy, sxy = (w * lag[keep]).sum(), (w * x * lag[keep]).sum()
            det = sw * sxx - sx * sx
            slope = (sw * sxy - sx * sy) / det
            l0 = (sy - slope * sx) / sw
            var_l0, var_s, dof = sxx / det, sw / det, keep.sum() - 2
        else:
            slope, l0, var_l0, var_s = 0.0, (w * lag[keep]).sum() / w.sum(), 1 / w.sum(), 0
            dof = keep.sum() - 1
        resid = lag - (l0 + slope * x_all)
        chi2 = float((resid[keep] ** 2 / sg[keep] ** 2).sum() / dof) if dof > 0 else 1.0
        scale = max(1.0, chi2)
        new_keep = np.abs(resid) <= 4 * sg * np.sqrt(scale)
        if new_keep.sum() < max(1, keep.sum() // 2) or (new_keep == keep).all():
            break
        keep = new_keep
    lag_sd = float(np.sqrt(var_l0 * scale))
    slope_sd = float(np.sqrt(var_s * scale))
    if use_drift and abs(slope) < 2 * slope_sd:
        # Drift not significant: a constant offset is the better-determined model.
        w = 1.0 / sg[keep] ** 2
        l0 = float((w * lag[keep]).sum() / w.sum())
        dof = keep.sum() - 1
        chi2 = float(((lag[keep] - l0) ** 2 * w).sum() / dof) if dof > 0 else 1.0
        return l0, 0.0, float(np.sqrt(max(1.0, chi2) / w.sum())), 0.0
    return float(l0), float(slope), lag_sd, slope_sd


def choose_clock(lumbar: ImuBlock, thoracic: ImuBlock, mode: str = "auto") -> ClockMap:
    """The thoracic clock map to use for a recording.

    Args:
        mode: ``"shared"``: both sensors on one time base (identity, no fit); ``"fit"``: use
            the gyro cross-correlation fit whatever it says; ``"auto"``: fit, but apply it
            only when the offset or drift is confidently non-zero (3σ), else identity — a
            shared clock then stays shared instead of picking up a spurious lag.
    """
    if mode not in CLOCK_MODES:
        raise ValueError(f"clock mode must be one of {', '.join(CLOCK_MODES)}, not {mode!r}")
    if mode == "shared":
        return SHARED_CLOCK
    fit = estimate_clock_map(lumbar, thoracic)
    if mode == "fit" or fit.confidently_nonzero():
        return fit
    return replace(SHARED_CLOCK, quality=fit.quality, lag_sigma_s=fit.lag_sigma_s, t_mid=fit.t_mid)


def interpolate_orientation(
    t: F64, quat: F64, t_query: F64, max_gap_s: float = 0.1, trig: Trig = NUMPY
) -> tuple[F64, NDArray[np.bool_]]:
    """Slerp orientations ``(N, 4)`` at times ``t`` (sorted) onto ``t_query``.

    Returns:
        ``(quat (M, 4), valid (M,))``: invalid (NaN) where the query lies outside the data or
        inside a gap longer than ``max_gap_s``; never invents data across such a gap.
    """
    m = t_query.shape[0]
    out = np.full((m, 4), np.nan)
    if t.shape[0] == 0 or m == 0:
        return out, np.zeros(m, dtype=bool)
    i = np.searchsorted(t, t_query, side="right") - 1
    exact_end = t_query == t[-1]
    i = np.where(exact_end, t.shape[0] - 2 if t.shape[0] > 1 else 0, i)
    inside = (i >= 0) & (i < t.shape[0] - 1)
    if t.shape[0] == 1:
        valid = t_query == t[0]
        out[valid] = quat[0]
        return out, valid
    i_c = np.clip(i, 0, t.shape[0] - 2)
    span = t[i_c + 1] - t[i_c]
    # A query exactly on a sample needs no bracket, even at the edge of a gap (the last
    # sample too, whose bracket is the interval before it).
    on_sample = exact_end | ((i >= 0) & (t[np.clip(i, 0, t.shape[0] - 1)] == t_query))
    valid = (inside & (span <= max_gap_s + 1e-9)) | on_sample
    if valid.all():  # (the usual whole recording: no masked copies)
        s = np.where(span > 0, (t_query - t[i_c]) / span, 0.0)
        out = Q.slerp(quat[i_c], quat[i_c + 1], s, trig)
    elif valid.any():
        iv = i_c[valid]
        s = np.where(span[valid] > 0, (t_query[valid] - t[iv]) / span[valid], 0.0)
        out[valid] = Q.slerp(quat[iv], quat[iv + 1], s, trig)
    return out, valid
