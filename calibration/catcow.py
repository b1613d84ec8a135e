"""The cat-cow part of the functional calibration: cycles counted and checked in the flexion
trace, fullest flexion and extension (:func:`calibration.functional.calibrate`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from calibration.profile import CalibrationError

if TYPE_CHECKING:
    from calibration.functional import CalibrationSettings

F64 = NDArray[np.float64]


def moving_mean(x: F64, n: int) -> F64:
    """Centred moving mean over ``n`` samples of ``(N,)``, edges held."""
    if n <= 1:
        return x
    k = np.ones(n) / n
    pad = n // 2
    xp = np.pad(x, (pad, n - 1 - pad), mode="edge")
    return np.convolve(xp, k, mode="valid")


@dataclass(frozen=True)
class CatCow:
    """The cat-cow cycles: count and the fullest flexion / extension from standing, deg."""

    cycles: int
    fmin: float
    fmax: float

    @property
    def mid(self) -> float:
        return 0.5 * (self.fmax + self.fmin)


def cat_cow(f_cc: F64, rate: float, s: CalibrationSettings, quality: dict[str, float]) -> CatCow:
    """Count the cat-cow cycles in the flexion trace after standing and check them."""
    f_sm = moving_mean(f_cc, max(1, int(0.1 * rate)))
    dist = max(1, int(1.0 * rate))
    from scipy.signal import find_peaks  # heavy (pulls scipy.stats): only when calibrating

    peaks, _ = find_peaks(f_sm, prominence=s.min_prominence_deg, distance=dist)
    troughs, _ = find_peaks(-f_sm, prominence=s.min_prominence_deg, distance=dist)
    fmax, fmin = float(f_sm.max()), float(f_sm.min())
    rng = fmax - fmin
    if rng < s.min_range_deg:
        raise CalibrationError(
            f"flexion–extension range only {rng:.1f}° (at least {s.min_range_deg:.0f}° needed): "
            "round the back fully and arch it fully in each cat-cow cycle"
        )
    cycles = min(len(peaks), len(troughs))
    if cycles < s.min_cycles:
        raise CalibrationError(
            f"found {cycles} cat-cow cycle(s), at least {s.min_cycles} needed: after standing, "
            "do three or more slow cycles (round fully, then arch fully, about 4–6 s each)"
        )
    if troughs.size and peaks.size and troughs[0] < peaks[0]:
        raise CalibrationError(
            "the first cat-cow movement read as arching, not rounding: either the thoracic "
            "and lumbar sensors are swapped (the thoracic one goes on the upper back) or the "
            "cycles started with arching; check the sensors and start by rounding"
        )
    consistency = 1.0 - (np.std(f_sm[peaks]) + np.std(f_sm[troughs])) / max(rng, 1e-9)
    quality["cycle_consistency"] = float(np.clip((consistency - 0.5) / 0.4, 0.0, 1.0))
    quality["range"] = float(np.clip((rng - s.min_range_deg) / 20.0, 0.0, 1.0))
    return CatCow(cycles, fmin, fmax)
