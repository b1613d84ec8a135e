"""Zero-phase Butterworth band-pass without importing ``scipy.signal``.

``scipy.signal`` costs about a second to import (it pulls in ``scipy.stats``), more than the
whole of ``spinewatch analyze``'s work on a 10-minute recording, and the analysis needs it for
one 0.2–4 Hz band-pass in the clock alignment. :func:`sosfiltfilt` gives the same numbers as
``scipy.signal.sosfiltfilt(sos, x)`` (default ``padtype="odd"`` and ``padlen``), to rounding
(≈1e-12 of the signal, tested), using FFT convolution with the filter's impulse response:

- ``sosfilt(sos, x, zi=sosfilt_zi(sos) * x[0])`` is, by linearity, the zero-state response to
  ``x - x[0]`` plus ``x[0]`` times the DC gain (the steady state of a constant input);
- a zero-state response is the causal convolution of the input with the impulse response,
  which is the inverse FFT of the filter's frequency response on a fine grid (the response has
  decayed below rounding long before the grid's length, so aliasing is negligible).

The second-order sections of the one design the project uses are stored
(:data:`KNOWN_SOS`, tested equal to ``scipy.signal.butter``); any other design falls back to
``scipy.signal.butter`` for the coefficients.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]

# butter(order, (lo_hz, hi_hz), btype="band", fs=fs_hz, output="sos"), keyed by its arguments.
KNOWN_SOS: dict[tuple[int, float, float, float], tuple[tuple[float, ...], ...]] = {
    (2, 0.2, 4.0, 200.0): (
        (0.0032822822532476282, 0.0065645645064952565, 0.0032822822532476282,
         1.0, -1.838801833562032, 0.8521082951584488),
        (1.0, -2.0, 1.0, 1.0, -1.9912083002083514, 0.9912514549670278),
    ),
}  # fmt: skip

_IMPULSE_LEN = 1 << 17  # samples: the slowest pole above decays below 1e-16 within ~2**14


def butter_band_sos(order: int, lo_hz: float, hi_hz: float, fs_hz: float) -> F64:
    """Second-order sections ``(n_sections, 6)`` of a digital Butterworth band-pass."""
    known = KNOWN_SOS.get((order, float(lo_hz), float(hi_hz), float(fs_hz)))
    if known is not None:
        return np.array(known, dtype=np.float64)
    from scipy.signal import butter

    return np.asarray(butter(order, [lo_hz, hi_hz], btype="band", fs=fs_hz, output="sos"))


@lru_cache(maxsize=8)
def _impulse_response(sos_key: tuple[tuple[float, ...], ...]) -> F64:
    m = _IMPULSE_LEN
    z1 = np.exp(-1j * np.pi * np.arange(m // 2 + 1) / (m // 2))  # z⁻¹ on the rfft grid
    h = np.ones_like(z1)
    for b0, b1, b2, a0, a1, a2 in sos_key:
        h *= (b0 + z1 * (b1 + z1 * b2)) / (a0 + z1 * (a1 + z1 * a2))
    return np.fft.irfft(h, m)


@lru_cache(maxsize=32)
def _response_fft(sos_key: tuple[tuple[float, ...], ...], n: int) -> tuple[int, NDArray[Any]]:
    """FFT length and spectrum of the impulse response cut at ``n`` samples."""
    m = 1 << int(np.ceil(np.log2(2 * n)))  # ≥ 2n: no circular wrap-around
    return m, np.fft.rfft(_impulse_response(sos_key)[:n], m)


def _zero_state(sos_key: tuple[tuple[float, ...], ...], x: F64) -> F64:
    """Causal convolution ``y[k] = Σ_{j≤k} h[j] x[k-j]`` for ``k < len(x)``."""
    m, h_f = _response_fft(sos_key, x.size)
    return np.fft.irfft(np.fft.rfft(x, m) * h_f, m)[: x.size]


def sosfiltfilt(sos: F64, x: F64) -> F64:
    """Forward-backward filtering as ``scipy.signal.sosfiltfilt(sos, x)`` (1-D ``x``, ``(N,)``).

    Raises:
        ValueError: ``x`` is not longer than the edge padding (as scipy does).
    """
    sos = np.asarray(sos, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    # scipy's default padlen: 3 * (2 * sections + 1 - trailing zero coefficients).
    n_zero = min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    pad = 3 * (2 * len(sos) + 1 - n_zero)
    if x.size <= pad:
        raise ValueError(f"the input must be longer than {pad} samples, got {x.size}")
    key = tuple(tuple(float(v) for v in row) for row in sos)
    dc = float(np.prod(sos[:, :3].sum(axis=1) / sos[:, 3:].sum(axis=1)))
    ext = np.concatenate((2 * x[0] - x[pad:0:-1], x, 2 * x[-1] - x[-2 : -pad - 2 : -1]))
    y = _zero_state(key, ext - ext[0]) + ext[0] * dc
    r = y[::-1]
    y = (_zero_state(key, r - r[0]) + r[0] * dc)[::-1]
    return np.asarray(y[pad:-pad])


def band_filtfilt(x: F64, fs_hz: float, lo_hz: float, hi_hz: float, order: int = 2) -> F64:
    """Zero-phase Butterworth band-pass of ``x`` ``(N,)`` sampled at ``fs_hz``."""
    return sosfiltfilt(butter_band_sos(order, lo_hz, hi_hz, fs_hz), x)
