"""Runs of True in a boolean mask: the one idiom every detector here needs.

Hinges, rest windows, pauses, gait bouts, calibration poses and drill holds are all runs of
consecutive True samples; each is ``mask[start:stop]``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def true_runs(mask: ArrayLike) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Start and stop indices of each run of True in ``mask`` ``(N,)``, stop exclusive.

    Returns two ``(R,)`` integer arrays, in order; ``mask[starts[r]:stops[r]]`` is all True and
    bounded by False or the ends of the mask.
    """
    m = np.asarray(mask, dtype=bool).ravel()
    d = np.diff(np.concatenate(([False], m, [False])).astype(np.int8))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)
