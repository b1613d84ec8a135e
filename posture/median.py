"""``np.median`` of a 1-D float array, the same number, without its ~15 ms import.

``np.median`` imports ``numpy.ma`` on its first call (its NaN check), which costs more than
the rest of some commands' work on a 10-minute recording (``spinewatch analyze``). This is
the same computation for the 1-D case: partition at the middle (and the last element, where
NaN sorts), the mean of the middle one or two values.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def median(x: ArrayLike) -> float:
    """The median of ``x`` ``(N,)`` as ``float(np.median(x))``: NaN when empty or any NaN."""
    a = np.asarray(x, dtype=np.float64).ravel()
    n = a.size
    if n == 0:
        return float("nan")
    h = n // 2
    kth = [h - 1, h, n - 1] if n % 2 == 0 else [h, n - 1]
    part = np.partition(a, kth)
    if np.isnan(part[-1]):
        return float("nan")
    if n % 2:
        return float(part[h])
    return float(np.add(part[h - 1], part[h]) / 2.0)


def percentile(x: ArrayLike, q: float) -> float:
    """``float(np.percentile(x, q))`` (default linear method) of all values of ``x``, the same
    number, without importing ``numpy.ma`` (``np.percentile`` does, through ``np.unique``)."""
    a = np.asarray(x, dtype=np.float64).ravel()
    n = a.size
    if n == 0:
        return float("nan")
    virtual = (n - 1) * np.true_divide(q, 100)
    lo = int(np.floor(virtual))
    lo = min(max(lo, 0), n - 1)
    hi = min(lo + 1, n - 1)
    part = np.partition(a, sorted({lo, hi, n - 1}))
    if np.isnan(part[-1]):
        return float("nan")
    below, above = part[lo], part[hi]
    gamma = virtual - lo
    diff = above - below
    # numpy's _lerp: from the nearer end, so the result is monotonic in q.
    return float(above - diff * (1 - gamma) if gamma >= 0.5 else below + diff * gamma)
