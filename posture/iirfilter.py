"""Zero-phase Butterworth filters without importing ``scipy.signal``.

``scipy.signal`` costs one to two seconds to import (it pulls in ``scipy.stats``), more than
the whole of ``spinewatch analyze``'s work on a 10-minute recording, and the analysis needs
only two Butterworth band-passes from it (clock alignment, gait detection). This module gives
scipy's numbers without the import:

- :func:`butter_sos` designs the filter as ``scipy.signal.butter(order, cut, btype, fs=fs,
  output="sos")`` does — analog prototype, frequency transform, bilinear transform, pole-zero
  pairing into second-order sections — with the same coefficients to rounding (tested over a
  grid of orders, cut-offs and rates);
- :func:`sosfiltfilt` filters as ``scipy.signal.sosfiltfilt(sos, x)`` (default ``padtype="odd"``
  and ``padlen``), to rounding (≈1e-12 of the signal, tested), by FFT convolution with the
  filter's impulse response instead of a per-sample recursion:

  - ``sosfilt(sos, x, zi=sosfilt_zi(sos) * x[0])`` is, by linearity, the zero-state response
    to ``x - x[0]`` plus ``x[0]`` times the DC gain (the steady state of a constant input);
  - a zero-state response is the causal convolution of the input with the impulse response,
    the inverse FFT of the filter's frequency response on a grid long enough for the
    response to decay below rounding (from the slowest pole), so aliasing is negligible.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from posture.runs import true_runs

F64 = NDArray[np.float64]
C128 = NDArray[np.complex128]
SosKey = tuple[tuple[float, ...], ...]

# ---------------------------------------------------------------------------------------------
# Design: scipy.signal.butter(order, Wn, btype, fs=fs, output="sos"), step by step in numpy —
# analog prototype, frequency transform, bilinear transform, then zpk2sos's "nearest" pairing
# (worst pole first; the sections come out in scipy's order, so the coefficients are scipy's).


def _butter_zpk(
    order: int, cut_hz: tuple[float, ...], btype: str, fs_hz: float
) -> tuple[C128, C128, float]:
    """Digital zeros, poles and gain of a Butterworth filter (``scipy.signal.iirfilter``)."""
    if order < 1:
        raise ValueError(f"the filter order must be at least 1, got {order}")
    wn = 2.0 * np.asarray(cut_hz, dtype=np.float64) / fs_hz
    if np.any(wn <= 0) or np.any(wn >= 1):
        raise ValueError(f"cut-offs must lie in 0 < f < fs/2 = {fs_hz / 2} Hz, got {cut_hz}")
    m = np.arange(-order + 1, order, 2, dtype=np.float64)
    p: C128 = -np.exp(1j * np.pi * m / (2 * order))  # unit-cutoff prototype
    z: C128 = np.zeros(0, np.complex128)
    k = 1.0
    warped = 4.0 * np.tan(np.pi * wn / 2.0)  # pre-warped for the bilinear transform at fs = 2
    if btype == "lowpass":
        z, p, k = z * warped[0], p * warped[0], k * float(warped[0]) ** order
    elif btype == "highpass":
        z, p, k = np.zeros(order, np.complex128), warped[0] / p, k * float(np.real(1 / np.prod(-p)))
    elif btype == "bandpass":
        bw, wo = float(warped[1] - warped[0]), float(np.sqrt(warped[0] * warped[1]))
        p_lp = p * bw / 2
        root = np.sqrt(p_lp**2 - wo**2)
        p = np.concatenate((p_lp + root, p_lp - root))
        z, k = np.zeros(order, np.complex128), k * bw**order
    else:
        raise ValueError(f"btype must be lowpass, highpass or bandpass, got {btype!r}")
    degree = p.size - z.size
    z_d = np.concatenate(((4.0 + z) / (4.0 - z), -np.ones(degree)), dtype=np.complex128)
    k_d = k * float(np.real(np.prod(4.0 - z) / np.prod(4.0 - p)))
    return z_d, (4.0 + p) / (4.0 - p), k_d


def _cplxreal(z: C128) -> C128:
    """One of each conjugate pair (positive imaginary part, pairs averaged), then the reals
    (sorted), as ``scipy.signal._filter_design._cplxreal`` orders them."""
    tol = 100 * np.finfo(np.float64).eps
    z = z[np.lexsort((abs(z.imag), z.real))]
    real = abs(z.imag) <= tol * abs(z)
    zr = z[real].real
    zc = z[~real]
    zp, zn = zc[zc.imag > 0], zc[zc.imag < 0]
    if zp.size != zn.size:
        raise ValueError("a complex root has no conjugate")
    # Within runs of (nearly) equal real parts, order by imaginary magnitude.
    same = np.diff(zp.real) <= tol * abs(zp[:-1])
    for a, b in zip(*(r.tolist() for r in true_runs(same)), strict=True):
        for chunk in (zp[a : b + 1], zn[a : b + 1]):
            chunk[...] = chunk[np.lexsort([abs(chunk.imag)])]
    if np.any(abs(zp - zn.conj()) > tol * abs(zn)):
        raise ValueError("a complex root has no conjugate")
    return np.concatenate(((zp + zn.conj()) / 2, zr))


def _pair_sections(z: C128, p: C128, k: float) -> F64:
    """``scipy.signal.zpk2sos(z, p, k)`` for a digital filter (``pairing="nearest"``).

    The pole nearest the unit circle is taken first with its conjugate and its nearest zeros;
    sections are filled from the last, so the most resonant section is filtered last.
    """
    p = np.concatenate((p, np.zeros(max(z.size - p.size, 0))))
    z = np.concatenate((z, np.zeros(max(p.size - z.size, 0))))
    n_sections = (p.size + 1) // 2
    if p.size % 2:
        p, z = np.append(p, 0.0), np.append(z, 0.0)
    z, p = _cplxreal(z), _cplxreal(p)
    sos = np.zeros((n_sections, 6))
    for si in range(n_sections - 1, -1, -1):
        i = int(np.argmin(np.abs(1 - np.abs(p))))
        p1, p = p[i], np.delete(p, i)
        if np.isreal(p1) and np.isreal(p).sum() == 0:  # the last real pole: first order
            j = _nearest(z, p1, "real")
            sos[si] = _section([z[j], 0], [p1, 0])
            z = np.delete(z, j)
            continue
        if (
            p.size + 1 == z.size
            and not np.isreal(p1)
            and np.isreal(p).sum() == 1 == np.isreal(z).sum()
        ):  # one real pole and zero left for the end: a complex zero must go here
            j = _nearest(z, p1, "complex")
            sos[si] = _section([z[j], np.conj(z[j])], [p1, np.conj(p1)])
            z = np.delete(z, j)
            continue
        if np.isreal(p1):
            reals = np.flatnonzero(np.isreal(p))
            i2 = int(reals[np.argmin(np.abs(1 - np.abs(p[reals])))])
            p2, p = p[i2], np.delete(p, i2)
        else:
            p2 = np.conj(p1)
        if z.size == 0:
            sos[si] = _section([], [p1, p2])
            continue
        j = _nearest(z, p1, "any")
        z1, z = z[j], np.delete(z, j)
        if not np.isreal(z1):
            sos[si] = _section([z1, np.conj(z1)], [p1, p2])
        elif z.size:
            j = _nearest(z, p1, "real")
            sos[si] = _section([z1, z[j]], [p1, p2])
            z = np.delete(z, j)
        else:
            sos[si] = _section([z1], [p1, p2])
    sos[0, :3] *= k
    return sos


def _nearest(roots: C128, to: complex, which: str) -> int:
    """Index of the root nearest ``to`` among all, the real or the complex ones."""
    order = np.argsort(np.abs(roots - to))
    if which == "any":
        return int(order[0])
    real = np.isreal(roots[order])
    return int(order[np.flatnonzero(real if which == "real" else ~real)[0]])


def _section(z: list[Any], p: list[Any]) -> F64:
    """One row ``(b0, b1, b2, a0, a1, a2)`` from up to two zeros and two poles."""
    sos = np.zeros(6)
    b, a = np.atleast_1d(np.poly(z)), np.atleast_1d(np.poly(p))
    sos[3 - b.size : 3] = np.real(b)
    sos[6 - a.size : 6] = np.real(a)
    return sos


def butter_sos(
    order: int, cutoff_hz: float | tuple[float, float], fs_hz: float, btype: str = "bandpass"
) -> F64:
    """Second-order sections ``(n_sections, 6)`` of a digital Butterworth filter.

    Equal to ``scipy.signal.butter(order, cutoff_hz, btype, fs=fs_hz, output="sos")`` to
    rounding. ``cutoff_hz`` is one frequency (``lowpass``, ``highpass``) or ``(low, high)``
    (``bandpass``), Hz.
    """
    cut = tuple(float(c) for c in np.atleast_1d(cutoff_hz))
    if len(cut) != (2 if btype == "bandpass" else 1):
        want = "two cut-offs" if btype == "bandpass" else "one cut-off"
        raise ValueError(f"a {btype} filter takes {want}, got {cut}")
    return _pair_sections(*_butter_zpk(int(order), cut, btype, float(fs_hz)))


def _impulse_len(sos_key: SosKey) -> int:
    """FFT length (a power of two) over which the impulse response decays below rounding."""
    r = max(float(np.max(np.abs(np.roots(row[3:])), initial=0.0)) for row in sos_key)
    if r >= 1.0:
        raise ValueError("the filter is unstable (a pole on or outside the unit circle)")
    # r**n < 1e-18, doubled for the polynomial growth of repeated poles; at least 2**12.
    n = 2.0 * np.log(1e-18) / np.log(max(r, 1e-3))
    return int(1 << max(12, int(np.ceil(np.log2(n)))))


@lru_cache(maxsize=8)
def _impulse_response(sos_key: SosKey) -> F64:
    m = _impulse_len(sos_key)
    z1 = np.exp(-1j * np.pi * np.arange(m // 2 + 1) / (m // 2))  # z⁻¹ on the rfft grid
    h = np.ones_like(z1)
    for b0, b1, b2, a0, a1, a2 in sos_key:
        h *= (b0 + z1 * (b1 + z1 * b2)) / (a0 + z1 * (a1 + z1 * a2))
    return np.fft.irfft(h, m)


#: Odd factors of the FFT lengths used (:func:`fft_len`): numpy's pocketfft transforms
#: ``2**a`` times one of these about as fast per point as a power of two.
_ODD_FACTORS = (1, 3, 5, 9, 15, 25)


def fft_len(n: int) -> int:
    """Smallest FFT length ``≥ n`` of the form ``2**a · f`` (f in ``_ODD_FACTORS``).

    A power of two can be up to twice ``n``; these lengths stay within ~20 % of it, so a
    convolution or correlation costs ~25 % less (scipy.fft.next_fast_len without its import).
    """
    return min(f << max(0, (n - 1) // f).bit_length() for f in _ODD_FACTORS)


@lru_cache(maxsize=32)
def _response_fft(sos_key: SosKey, n: int) -> tuple[int, NDArray[Any]]:
    """FFT length and spectrum of the impulse response cut at ``n`` samples."""
    m = fft_len(2 * n)  # ≥ 2n: no circular wrap-around
    return m, np.fft.rfft(_impulse_response(sos_key)[:n], m)


def _zero_state(sos_key: SosKey, x: F64) -> F64:
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
    """Zero-phase Butterworth band-pass of ``x`` ``(N,)`` sampled at ``fs_hz``.

    The same as ``sosfiltfilt(butter(order, (lo_hz, hi_hz), "bandpass", fs=fs_hz,
    output="sos"), x)`` from ``scipy.signal``, to rounding.
    """
    return sosfiltfilt(_cached_sos(order, float(lo_hz), float(hi_hz), float(fs_hz)), x)


@lru_cache(maxsize=16)
def _cached_sos(order: int, lo_hz: float, hi_hz: float, fs_hz: float) -> F64:
    sos = butter_sos(order, (lo_hz, hi_hz), fs_hz, "bandpass")
    sos.flags.writeable = False  # shared between callers
    return sos
