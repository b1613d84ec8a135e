"""Per-sensor accelerometer correction (bias and scale per axis), applied before fusion.

MEMS accelerometers read ``a_raw = scale ⊙ a + bias`` with a few 10 mg of bias and about 1 %
scale error per axis. Fusion takes the accelerometer's direction as "up", so these errors
tilt each sensor's orientation by up to a few tenths of a degree, and by a different amount
in every pose: the calibrated neutral (from standing and cat-cow) then carries an offset
into every later pose. Most of the error belongs to the sensor (it repeats from one power-up
to the next within a few mg), so a one-time table calibration of each sensor
(:mod:`calibration.sensor_table`) removes it for good.

The correction is carried by :class:`posture.angles.SpineModel` (from the profile) and
applied where raw blocks enter calibration, batch analysis and the live engine: one
``(N, 3)`` affine map per block, nothing per sample.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from posture.errors import PostureError
from posture.records import ImuBlock, OrientationBlock, unchecked

F64 = NDArray[np.float64]

#: Largest plausible correction: a bias beyond 2 m/s² (0.2 g) or a scale beyond ±10 % is a
#: broken sensor or a wrong fit, never something to apply silently.
MAX_BIAS = 2.0
MAX_SCALE_ERROR = 0.10
#: Where a correction came from: a six-face table calibration of the sensor, or the in-field
#: fit on the wearer's rest poses (:mod:`calibration.field_acc`).
SOURCES = ("table", "field")


def _vec3(v: ArrayLike, name: str) -> F64:
    a = np.array(v, dtype=np.float64).reshape(-1)
    if a.shape != (3,) or not np.all(np.isfinite(a)):
        raise PostureError(f"accelerometer {name} must be three finite numbers, got {v!r}")
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class AccCorrection:
    """One sensor's accelerometer correction: ``a = (a_raw − bias) / scale`` per axis.

    Attributes:
        bias: offset per sensor axis, m/s², ``(3,)``.
        scale: gain per sensor axis (1 = exact), ``(3,)``.
        info: how it was obtained (poses, residual, date...), JSON-safe facts.
        source: ``"table"`` (six-face table calibration) or ``"field"`` (in-field fit on
            the wearer's rest poses).
    """

    bias: F64 = field(default_factory=lambda: np.zeros(3))
    scale: F64 = field(default_factory=lambda: np.ones(3))
    info: dict[str, Any] = field(default_factory=dict)
    source: str = "table"

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise PostureError(
                f"accelerometer correction source must be one of {', '.join(SOURCES)}, "
                f"got {self.source!r}"
            )
        b, s = _vec3(self.bias, "bias"), _vec3(self.scale, "scale")
        if np.any(np.abs(b) > MAX_BIAS) or np.any(np.abs(s - 1.0) > MAX_SCALE_ERROR):
            raise PostureError(
                f"implausible accelerometer correction (bias {np.round(b, 3).tolist()} m/s², "
                f"scale {np.round(s, 4).tolist()}): repeat the sensor table calibration"
            )
        object.__setattr__(self, "bias", b)
        object.__setattr__(self, "scale", s)

    @cached_property  # read for every live block; the arrays are read-only
    def is_identity(self) -> bool:
        return bool(np.all(self.bias == 0.0) and np.all(self.scale == 1.0))

    def apply(self, acc: F64) -> F64:
        """Corrected specific force, m/s², ``(N, 3)`` (or ``(3,)``)."""
        return (acc - self.bias) / self.scale

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "bias_m_s2": [float(x) for x in self.bias],
            "scale": [float(x) for x in self.scale],
            "info": dict(self.info),
        }


def correct_block(
    block: ImuBlock | OrientationBlock, corr: AccCorrection | None
) -> ImuBlock | OrientationBlock:
    """The block with its accelerometer corrected (pre-fused blocks pass unchanged)."""
    if corr is None or corr.is_identity or not isinstance(block, ImuBlock) or len(block) == 0:
        return block
    # The corrected acc is a fresh (N, 3) float64 array and the rest is the checked block's:
    # no need for the dataclass checks (a few µs per live block).
    b = block
    return unchecked(ImuBlock, b.sensor, b.t, corr.apply(b.acc), b.gyr, b.mag, b.seq)


def correct_raw(
    raw: Mapping[str, ImuBlock | OrientationBlock],
    corrections: Mapping[str, AccCorrection] | None,
) -> dict[str, ImuBlock | OrientationBlock]:
    """Every role's block corrected with its own correction (roles without one unchanged)."""
    corrections = corrections or {}
    return {role: correct_block(b, corrections.get(role)) for role, b in raw.items()}
