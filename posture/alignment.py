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

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from posture import quat as Q
from posture.records import ImuBlock

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class ClockMap:
    """Thoracic clock model relative to the lumbar clock: ``t_T = offset + (1 + drift)·t_L``.

    Attributes:
        offset_s: thoracic minus lumbar clock at lumbar time 0, s.
        drift: relative rate error (dimensionless; 50 ppm = 50e-6).
        quality: 0..1, share of analysis windows whose correlation peak was trusted.
    """

    offset_s: float = 0.0
    drift: float = 0.0
    quality: float = 1.0

    @property
    def drift_ppm(self) -> float:
        return self.drift * 1e6

    def to_lumbar(self, t_thoracic: F64) -> F64:
        """Map thoracic time stamps (s) onto the lumbar clock (s)."""
        return (np.asarray(t_thoracic, dtype=np.float64) - self.offset_s) / (1.0 + self.drift)


IDENTITY_CLOCK = ClockMap()


def _uniform(t: F64, v: F64, grid: F64) -> F64:
    return np.interp(grid, t, v)


def _band(x: F64, fs: float) -> F64:
    """0.2–4 Hz band: body movements both segments share; drops drift and tissue wobble."""
    from scipy.signal import butter, sosfiltfilt

    sos = butter(2, [0.2, 4.0], btype="band", fs=fs, output="sos")
    return np.asarray(sosfiltfilt(sos, x))


def estimate_clock_map(
    lumbar: ImuBlock,
    thoracic: ImuBlock,
    *,
    max_offset_s: float = 1.0,
    window_s: float = 30.0,
    grid_hz: float = 200.0,
    min_corr: float = 0.5,
) -> ClockMap:
    """Estimate the thoracic clock's offset and drift against the lumbar clock.

    Both gyro magnitudes are resampled onto a uniform grid, band-passed to 0.2–4 Hz (the body
    movements both segments share; soft-tissue wobble and noise are independent per sensor and
    would bias the peak), and cross-correlated in windows of ``window_s``.
    Each window's lag is refined to sub-sample precision by a parabola through the peak, and
    a weighted line through (window centre, lag) gives offset and drift. With too little
    motion or too few trusted windows the map falls back to a constant offset (or identity).

    Args:
        lumbar, thoracic: raw blocks on their own clocks.
        max_offset_s: largest clock offset searched, s.
        window_s: analysis window length, s.
        grid_hz: resampling rate of the correlation, Hz.
        min_corr: smallest normalised correlation peak trusted.
    """
    if len(lumbar) < 10 or len(thoracic) < 10:
        return ClockMap(quality=0.0)
    g_l = np.linalg.norm(lumbar.gyr, axis=1)
    g_t = np.linalg.norm(thoracic.gyr, axis=1)
    start = max(lumbar.t[0], thoracic.t[0] - max_offset_s)
    stop = min(lumbar.t[-1], thoracic.t[-1] + max_offset_s)
    if stop - start < 4 * max_offset_s:
        return ClockMap(quality=0.0)
    dt = 1.0 / grid_hz
    max_lag = int(np.ceil(max_offset_s * grid_hz))
    window_s = min(window_s, stop - start - 2 * max_offset_s)
    n_win = int(window_s * grid_hz)
    starts = np.arange(start + max_offset_s, stop - max_offset_s - window_s + 1e-9, window_s / 2)
    if starts.size == 0:  # short recording: one window over all of it
        starts = np.array([start + max_offset_s])
    centres, lags, weights = [], [], []
    for w0 in starts:
        grid_l = w0 + np.arange(n_win) * dt
        a = _band(_uniform(lumbar.t, g_l, grid_l), grid_hz)
        grid_t = w0 - max_offset_s + np.arange(n_win + 2 * max_lag) * dt
        b = _band(_uniform(thoracic.t, g_t, grid_t), grid_hz)
        if np.std(a) < 1e-4 or np.std(b) < 1e-4:
            continue
        # Normalised cross-correlation via FFT over every lag in [-max_lag, max_lag].
        n_fft = 1 << int(np.ceil(np.log2(a.size + b.size)))
        corr = np.fft.irfft(np.fft.rfft(b, n_fft) * np.conj(np.fft.rfft(a, n_fft)), n_fft)
        corr = corr[: 2 * max_lag + 1]
        csum = np.concatenate(([0.0], np.cumsum(b * b)))
        energy_b = csum[a.size : a.size + corr.size] - csum[: corr.size]
        denom = np.sqrt(np.maximum(energy_b, 1e-30) * np.sum(a * a))
        ncorr = corr / denom
        k = int(np.argmax(ncorr))
        peak = float(ncorr[k])
        if peak < min_corr or k == 0 or k == ncorr.size - 1:
            continue
        y0, y1, y2 = ncorr[k - 1], ncorr[k], ncorr[k + 1]
        den = y0 - 2 * y1 + y2
        frac = 0.5 * (y0 - y2) / den if den != 0 else 0.0
        lag_s = (k + frac - max_lag) * dt
        centres.append(w0 + window_s / 2)
        lags.append(lag_s)
        weights.append(peak**2)
    quality = len(lags) / max(1, len(starts))
    if not lags:
        return ClockMap(quality=0.0)
    c = np.asarray(centres)
    lag = np.asarray(lags)
    wts = np.asarray(weights)
    if len(lags) >= 3 and c.max() - c.min() >= 60.0:
        # Robust line: fit, drop outliers beyond 3 grid steps, refit.
        keep = np.ones(lag.size, dtype=bool)
        for _ in range(2):
            slope, icpt = np.polyfit(c[keep], lag[keep], 1, w=np.sqrt(wts[keep]))
            resid = np.abs(lag - (icpt + slope * c))
            new_keep = resid <= max(3 * dt, 2.5 * np.median(resid))
            if new_keep.sum() < 3 or (new_keep == keep).all():
                break
            keep = new_keep
        # lag(t) = t_T - t_L = offset + drift·t_L
        return ClockMap(offset_s=float(icpt), drift=float(slope), quality=quality)
    med = float(np.average(lag, weights=wts))
    return ClockMap(offset_s=med, drift=0.0, quality=quality)


def interpolate_orientation(
    t: F64, quat: F64, t_query: F64, max_gap_s: float = 0.1
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
    # A query exactly on a sample needs no bracket, even at the edge of a gap.
    on_sample = (i >= 0) & (t[np.clip(i, 0, t.shape[0] - 1)] == t_query)
    valid = (inside & (span <= max_gap_s + 1e-9)) | on_sample
    if valid.any():
        iv = i_c[valid]
        s = np.where(span[valid] > 0, (t_query[valid] - t[iv]) / span[valid], 0.0)
        out[valid] = Q.slerp(quat[iv], quat[iv + 1], s)
    return out, valid
