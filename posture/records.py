"""Value types that flow through the pipeline: IMU sample blocks, orientation blocks, angle blocks.

Every block holds numpy arrays (one row per sample), never per-sample Python objects, so the
hot path stays vectorised. Units are SI inside: time in s, acceleration in m/s² (specific
force: about +9.81 along the up axis when still), angular rate in rad/s, magnetic field in µT.
Angle blocks are the exception: they are the output meant for people and carry degrees.

Blocks are frozen dataclasses; treat their arrays as read-only.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from posture.errors import DataFormatError
from posture.median import median

F64 = NDArray[np.float64]

THORACIC = "thoracic"
LUMBAR = "lumbar"
ROLES: tuple[str, str] = (THORACIC, LUMBAR)

# Bits of AngleBlock.flags.
FLAG_GAP = 1  # no valid data for one sensor within 100 ms: angles are NaN
FLAG_FILLED = 2  # a short gap (≤ 100 ms) was bridged by interpolation
FLAG_REZERO = 4  # relative heading re-zeroed at this sample (quiet upright standing)
FLAG_UNCALIBRATED = 8  # no calibration profile: angles relative to a default frame


def _vec(a: ArrayLike, name: str, n: int | None = None) -> F64:
    arr = np.ascontiguousarray(a, dtype=np.float64)
    if arr.ndim != 1 or (n is not None and arr.shape[0] != n):
        raise DataFormatError(f"{name} must have shape (N,) with N={n}, got {arr.shape}")
    return arr


def _mat(a: ArrayLike, name: str, n: int, cols: int = 3) -> F64:
    arr = np.ascontiguousarray(a, dtype=np.float64)
    if arr.shape != (n, cols):
        raise DataFormatError(f"{name} must have shape ({n}, {cols}), got {arr.shape}")
    return arr


@dataclass(frozen=True, eq=False)
class ImuBlock:
    """A block of raw IMU samples of one sensor.

    Attributes:
        sensor: role (``"thoracic"`` or ``"lumbar"``) or another sensor id.
        t: sample times, s, shape ``(N,)``, on that sensor's clock (or host time).
        acc: specific force, m/s², shape ``(N, 3)``, sensor axes.
        gyr: angular rate, rad/s, shape ``(N, 3)``, sensor axes.
        mag: magnetic field, µT, shape ``(N, 3)``, or ``None``.
        seq: unwrapped sequence numbers, shape ``(N,)`` int64, or ``None``.
    """

    sensor: str
    t: F64
    acc: F64
    gyr: F64
    mag: F64 | None = None
    seq: NDArray[np.int64] | None = None

    def __post_init__(self) -> None:
        t = _vec(self.t, "t")
        n = t.shape[0]
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "acc", _mat(self.acc, "acc", n))
        object.__setattr__(self, "gyr", _mat(self.gyr, "gyr", n))
        if self.mag is not None:
            object.__setattr__(self, "mag", _mat(self.mag, "mag", n))
        if self.seq is not None:
            seq = np.ascontiguousarray(self.seq, dtype=np.int64)
            if seq.shape != (n,):
                raise DataFormatError(f"seq must have shape ({n},), got {seq.shape}")
            object.__setattr__(self, "seq", seq)

    def __len__(self) -> int:
        return len(self.t)  # (t is 1-D; len is cheaper than shape[0], per live block)

    @property
    def has_mag(self) -> bool:
        return self.mag is not None

    @classmethod
    def empty(cls, sensor: str, with_mag: bool = False) -> ImuBlock:
        z = np.zeros((0, 3))
        return cls(sensor, np.zeros(0), z, z, z if with_mag else None)

    def take(self, index: slice | NDArray[Any]) -> ImuBlock:
        """Rows selected by a slice, boolean mask or index array."""
        return ImuBlock(
            self.sensor,
            self.t[index],
            self.acc[index],
            self.gyr[index],
            None if self.mag is None else self.mag[index],
            None if self.seq is None else self.seq[index],
        )

    @staticmethod
    def concat(blocks: Sequence[ImuBlock]) -> ImuBlock:
        """Join blocks of one sensor in order (mag/seq kept only if every block has them)."""
        if not blocks:
            raise ValueError("concat needs at least one block")
        mag = None
        if all(b.mag is not None for b in blocks):
            mag = np.concatenate([b.mag for b in blocks if b.mag is not None])
        seq = None
        if all(b.seq is not None for b in blocks):
            seq = np.concatenate([b.seq for b in blocks if b.seq is not None])
        return ImuBlock(
            blocks[0].sensor,
            np.concatenate([b.t for b in blocks]),
            np.concatenate([b.acc for b in blocks]),
            np.concatenate([b.gyr for b in blocks]),
            mag,
            seq,
        )

    def with_sensor(self, sensor: str) -> ImuBlock:
        return ImuBlock(sensor, self.t, self.acc, self.gyr, self.mag, self.seq)

    def nominal_rate(self) -> float:
        """Sampling rate in Hz estimated robustly (median interval); 0 when under 2 samples."""
        if len(self) < 2:
            return 0.0
        dt = np.diff(self.t)
        dt = dt[dt > 0]
        return float(1.0 / median(dt)) if dt.size else 0.0


@dataclass(frozen=True, eq=False)
class OrientationBlock:
    """Orientations of one sensor, sensor frame → earth frame (z up; heading arbitrary in 6D).

    Attributes:
        sensor: role or sensor id.
        t: times, s, shape ``(N,)``.
        quat: unit quaternions ``w, x, y, z``, shape ``(N, 4)``.
        rest: the filter's rest flag (sensor still), shape ``(N,)`` bool, or ``None``.
        filled: ``True`` where the sample was interpolated to bridge a short gap, or ``None``.
        bias_sigma: the filter's gyro-bias uncertainty (1σ, rad/s), shape ``(N,)``, or ``None``.
        gait_rms: step-bounce RMS of the specific force (m/s², walking ≳ 1), ``(N,)`` or None.
    """

    sensor: str
    t: F64
    quat: F64
    rest: NDArray[np.bool_] | None = None
    filled: NDArray[np.bool_] | None = None
    bias_sigma: F64 | None = None
    gait_rms: F64 | None = None

    def __post_init__(self) -> None:
        t = _vec(self.t, "t")
        n = t.shape[0]
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "quat", _mat(self.quat, "quat", n, 4))
        for name in ("rest", "filled"):
            v = getattr(self, name)
            if v is not None:
                v = np.ascontiguousarray(v, dtype=bool)
                if v.shape != (n,):
                    raise DataFormatError(f"{name} must have shape ({n},), got {v.shape}")
                object.__setattr__(self, name, v)
        for name in ("bias_sigma", "gait_rms"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, _vec(getattr(self, name), name, n))

    def __len__(self) -> int:
        return len(self.t)

    def take(self, index: slice | NDArray[Any]) -> OrientationBlock:
        return OrientationBlock(
            self.sensor,
            self.t[index],
            self.quat[index],
            None if self.rest is None else self.rest[index],
            None if self.filled is None else self.filled[index],
            None if self.bias_sigma is None else self.bias_sigma[index],
            None if self.gait_rms is None else self.gait_rms[index],
        )

    @staticmethod
    def concat(blocks: Sequence[OrientationBlock]) -> OrientationBlock:
        if not blocks:
            raise ValueError("concat needs at least one block")
        rest = None
        if all(b.rest is not None for b in blocks):
            rest = np.concatenate([b.rest for b in blocks if b.rest is not None])
        filled = None
        if all(b.filled is not None for b in blocks):
            filled = np.concatenate([b.filled for b in blocks if b.filled is not None])
        sig = gait = None
        if all(b.bias_sigma is not None for b in blocks):
            sig = np.concatenate([b.bias_sigma for b in blocks if b.bias_sigma is not None])
        if all(b.gait_rms is not None for b in blocks):
            gait = np.concatenate([b.gait_rms for b in blocks if b.gait_rms is not None])
        return OrientationBlock(
            blocks[0].sensor,
            np.concatenate([b.t for b in blocks]),
            np.concatenate([b.quat for b in blocks]),
            rest,
            filled,
            sig,
            gait,
        )


ANGLE_COLUMNS: tuple[str, ...] = (
    "flexion",
    "lateral_flexion",
    "rotation",
    "thoracic_inclination",
    "lumbar_inclination",
    "hip_angle",
    "rotation_confidence",
)


@dataclass(frozen=True, eq=False)
class AngleBlock:
    """Spine angles relative to the wearer's calibrated neutral, on the lumbar clock.

    All angle arrays are in degrees, shape ``(N,)``; NaN where a sensor had no data (see
    ``flags``). Signs: flexion + forward, lateral flexion + to the wearer's right, rotation +
    upper trunk turning left (counter-clockwise seen from above). Inclinations are the
    sagittal forward tilt of each segment from vertical (+ forward); ``hip_angle`` is the
    forward tilt of the pelvis (lumbar segment) from its calibrated standing pose.

    Attributes:
        t: times, s, shape ``(N,)`` (lumbar sensor's own time stamps).
        flexion, lateral_flexion, rotation: intrinsic Z-X-Y decomposition, deg.
        thoracic_inclination, lumbar_inclination, hip_angle: deg.
        rotation_confidence: 0..1 from the expected rotation error E (95 % bound, deg):
            ``1 / (1 + (E / 2°)²)`` — 0.5 at 2°; see :mod:`posture.anchors`.
        flags: bit mask per sample, ``uint8`` (``FLAG_*`` constants of this module).
    """

    t: F64
    flexion: F64
    lateral_flexion: F64
    rotation: F64
    thoracic_inclination: F64
    lumbar_inclination: F64
    hip_angle: F64
    rotation_confidence: F64
    flags: NDArray[np.uint8]

    def __post_init__(self) -> None:
        t = _vec(self.t, "t")
        n = t.shape[0]
        object.__setattr__(self, "t", t)
        for name in ANGLE_COLUMNS:
            object.__setattr__(self, name, _vec(getattr(self, name), name, n))
        flags = np.ascontiguousarray(self.flags, dtype=np.uint8)
        if flags.shape != (n,):
            raise DataFormatError(f"flags must have shape ({n},), got {flags.shape}")
        object.__setattr__(self, "flags", flags)

    def __len__(self) -> int:
        return len(self.t)

    @classmethod
    def empty(cls) -> AngleBlock:
        """A block of no samples (one shared instance: blocks are read-only, and the live
        engine returns one for most pushes)."""
        return _empty_angles()

    def take(self, index: slice | NDArray[Any]) -> AngleBlock:
        return AngleBlock(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @staticmethod
    def concat(blocks: Sequence[AngleBlock]) -> AngleBlock:
        if not blocks:
            return AngleBlock.empty()
        # Blocks are checked when made, so their joined (fresh, contiguous) columns are too.
        return unchecked(
            AngleBlock,
            *(np.concatenate([getattr(b, f) for b in blocks]) for f in _ANGLE_FIELDS),
        )

    def planes(self) -> F64:
        """Flexion, lateral flexion and rotation as one ``(N, 3)`` array, deg."""
        return np.column_stack((self.flexion, self.lateral_flexion, self.rotation))


_ANGLE_FIELDS = tuple(f.name for f in fields(AngleBlock))


class AngleHistory:
    """The recent part of a live angle stream: blocks appended as they come (a list append
    per block), joined into one block only when it is read or trimmed."""

    def __init__(self) -> None:
        self._parts: list[AngleBlock] = []

    @property
    def n_parts(self) -> int:
        """Blocks held since the last join (0: empty)."""
        return len(self._parts)

    def append(self, a: AngleBlock) -> None:
        self._parts.append(a)

    def clear(self) -> None:
        self._parts = []

    def joined(self) -> AngleBlock:
        """Everything held, as one block (kept joined; an empty block when nothing is)."""
        if not self._parts:
            return AngleBlock.empty()
        buf = AngleBlock.concat(self._parts) if len(self._parts) > 1 else self._parts[0]
        self._parts = [buf]
        return buf

    def trim(self, keep_from: float) -> None:
        """Drop the samples before ``keep_from`` (s)."""
        if not self._parts:
            return
        buf = self.joined()
        i = int(np.searchsorted(buf.t, keep_from, side="left"))
        self._parts = [buf.take(slice(i, None))] if i < len(buf) else []


@functools.cache
def constant_flags(n: int, value: bool) -> NDArray[np.bool_]:
    """``n`` flags all ``value``, ``(n,)`` bool, shared and read-only: the per-sample flags of
    a live block (``filled``, under load) are most often all off or all on, and one array per
    size serves every such block without an allocation."""
    out = np.full(n, value, dtype=bool)
    out.setflags(write=False)
    return out


@functools.cache
def _empty_angles() -> AngleBlock:
    z = np.zeros(0)
    z.setflags(write=False)
    flags = np.zeros(0, np.uint8)
    flags.setflags(write=False)
    return AngleBlock(z, z, z, z, z, z, z, z, flags)


_Block = TypeVar("_Block", "ImuBlock", "OrientationBlock", "AngleBlock")


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def unchecked(cls: type[_Block], *values: Any) -> _Block:
    """A block from values already of its dtypes and shapes (every field, in order), without
    the checks and contiguous copies of ``__post_init__``: for the live engine's blocks of a
    few samples, built from arrays it made itself, where checking cost more than the work."""
    obj = object.__new__(cls)
    names = _FIELD_NAMES.get(cls) or _FIELD_NAMES.setdefault(
        cls, tuple(f.name for f in fields(cls))
    )
    if len(values) != len(names):  # (cheaper than zip's strict check)
        raise TypeError(f"{cls.__name__} has {len(names)} fields, got {len(values)} values")
    obj.__dict__.update(zip(names, values, strict=False))  # one call, not one per field
    return obj
