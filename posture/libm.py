"""Inverse trigonometric functions on arrays that round exactly like Python's ``math`` module.

numpy computes ``arctan2``, ``arcsin`` and ``arccos`` with its own SIMD routines on some CPUs
(AVX-512), which may differ from the C library in the last bit. The live engine computes
small blocks one sample at a time in Python floats (:mod:`posture.scalar_math`) and large
blocks with numpy, and both must give identical numbers however the input is chunked; so its
array path takes these three functions from here (:data:`LIBM`), element by element through
``math``, and everything else (IEEE arithmetic, ``sqrt``, ``sin``, ``cos``) from numpy, which
rounds as ``math`` does (tested). Batch analysis keeps numpy's own (:data:`NUMPY`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]


def _unary(fn: Callable[[float], float]) -> Callable[[F64], F64]:
    def apply(x: F64) -> F64:
        a = np.asarray(x, dtype=np.float64)
        return np.fromiter(map(fn, a.ravel().tolist()), np.float64, a.size).reshape(a.shape)

    return apply


def arctan2(y: F64, x: F64) -> F64:
    """``math.atan2`` element by element (broadcasting ``y`` and ``x``)."""
    yb, xb = np.broadcast_arrays(np.asarray(y, dtype=np.float64), np.asarray(x, dtype=np.float64))
    out = map(math.atan2, yb.ravel().tolist(), xb.ravel().tolist())
    return np.fromiter(out, np.float64, yb.size).reshape(yb.shape)


@dataclass(frozen=True)
class Trig:
    """Where a computation takes its inverse trigonometric functions from."""

    arctan2: Callable[[F64, F64], F64]
    arcsin: Callable[[F64], F64]
    arccos: Callable[[F64], F64]


#: numpy's own (fastest on long arrays; batch analysis, calibration, simulation).
NUMPY = Trig(np.arctan2, np.arcsin, np.arccos)
#: Python's ``math`` module, element by element (the live engine's array path).
LIBM = Trig(arctan2, _unary(math.asin), _unary(math.acos))
