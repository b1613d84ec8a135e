"""Spine angles from two segment orientations: the digital dowel's geometry.

Frames:
    * Earth frame of each 6D filter: z up, heading arbitrary (and different per sensor).
    * Segment frames (ISB): X forward, Y up, Z right, defined by the wearer's calibration
      (Y along gravity while standing, Z along the cat-cow flexion axis).
    * Mounting ``m`` (sensor → segment, ``v_seg = m ⊗ v_sensor ⊗ m*``), so the segment
      orientation is ``q_seg = q_sensor ⊗ conj(m)``.

The spine angle is the orientation of the thoracic segment relative to the lumbar segment,
``q_rel = conj(q_L) ⊗ yaw(δ) ⊗ q_T``, where ``yaw(δ)`` carries the thoracic filter's earth
frame into the lumbar filter's (the relative heading, re-zeroed during quiet standing). It is
expressed in the calibrated neutral frame, ``r = conj(q_N) ⊗ q_rel``, and decomposed as
intrinsic Z-X-Y (flexion → lateral flexion → axial rotation, the order of OpenSim's lumbar
joint). Signs for people: flexion = −Z angle (+ forward), lateral flexion = +X angle (+ to the
right), rotation = +Y angle (+ upper trunk turning left).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from posture import quat as Q
from posture.libm import NUMPY, Trig

if TYPE_CHECKING:
    from posture.acc_correction import AccCorrection

F64 = NDArray[np.float64]
IDENTITY = np.array([1.0, 0.0, 0.0, 0.0])


def _frozen_quat(q: ArrayLike) -> F64:
    a = Q.normalize(np.asarray(q, dtype=np.float64).reshape(4))
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class SpineModel:
    """What the engine needs from a calibration: mountings and the neutral posture.

    Attributes:
        mount_thoracic: sensor → segment quaternion of the thoracic sensor, ``(4,)``.
        mount_lumbar: sensor → segment quaternion of the lumbar sensor, ``(4,)``.
        neutral: thoracic-in-lumbar segment orientation at neutral spine, ``(4,)``.
        calibrated: False for the default model used without a profile.
        acc_correction: role → accelerometer correction applied to raw blocks before fusion
            (:mod:`posture.acc_correction`); ``None``: raw data used as read.
    """

    mount_thoracic: F64 = field(default_factory=lambda: IDENTITY.copy())
    mount_lumbar: F64 = field(default_factory=lambda: IDENTITY.copy())
    neutral: F64 = field(default_factory=lambda: IDENTITY.copy())
    calibrated: bool = True
    acc_correction: Mapping[str, AccCorrection] | None = None

    def __post_init__(self) -> None:
        for name in ("mount_thoracic", "mount_lumbar", "neutral"):
            object.__setattr__(self, name, _frozen_quat(getattr(self, name)))

    @classmethod
    def uncalibrated(cls) -> SpineModel:
        """Identity mountings and neutral: sensors assumed strapped with +Y up, +Z right."""
        return cls(calibrated=False)


def zxy_from_quat(q: ArrayLike, trig: Trig = NUMPY) -> tuple[F64, F64, F64]:
    """Intrinsic Z-X-Y angles (rad) of unit quaternions ``(N, 4)``: ``R = Rz(a)·Rx(b)·Ry(c)``.

    Same as ``Rotation.from_quat(q, scalar_first=True).as_euler("ZXY")`` but without scipy's
    per-call overhead (this sits on the per-sample streaming path).
    """
    a = np.asarray(q, dtype=np.float64)
    w, x, y, z = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    r21 = 2.0 * (y * z + w * x)
    r01 = 2.0 * (x * y - w * z)
    r11 = 1.0 - 2.0 * (x * x + z * z)
    b = trig.arcsin(np.minimum(np.maximum(r21, -1.0), 1.0))
    za = trig.arctan2(-r01, r11)
    return za, b, _axial(w, x, y, z, trig)


def _axial(w: F64, x: F64, y: F64, z: F64, trig: Trig = NUMPY) -> F64:
    """The Y (axial) angle of a Z-X-Y decomposition, rad: ``atan2(−R[2,0], R[2,2])``."""
    return trig.arctan2(-2.0 * (x * z - w * y), 1.0 - 2.0 * (x * x + y * y))


def quat_from_zxy(z: ArrayLike, x: ArrayLike, y: ArrayLike) -> F64:
    """Quaternions of intrinsic Z-X-Y rotations ``Rz(z)·Rx(x)·Ry(y)`` (rad)."""
    qz = Q.from_axis_angle(np.array([0.0, 0.0, 1.0]), z)
    qx = Q.from_axis_angle(np.array([1.0, 0.0, 0.0]), x)
    qy = Q.from_axis_angle(np.array([0.0, 1.0, 0.0]), y)
    return Q.multiply(Q.multiply(qz, qx), qy)


def spine_angles(r: F64, trig: Trig = NUMPY) -> tuple[F64, F64, F64]:
    """Flexion, lateral flexion, rotation (deg, reported signs) of thoracic-in-lumbar
    orientations already expressed in the neutral frame, ``(N, 4)``."""
    za, b, c = zxy_from_quat(r, trig)
    return -np.degrees(za), np.degrees(b), np.degrees(c)


def angles_from_relative(q_rel: F64, neutral: F64) -> tuple[F64, F64, F64]:
    """Flexion, lateral flexion, rotation (deg) of relative orientations ``(N, 4)``."""
    return spine_angles(Q.multiply(Q.conj(neutral), q_rel))


def sagittal_inclination(q_seg: F64, trig: Trig = NUMPY) -> F64:
    """Forward tilt of segments from vertical (deg, + forward), ``(N, 4)`` → ``(N,)``.

    ``atan2(−X·ẑ, Y·ẑ)``: the segment's Y axis tilting toward its forward X axis.
    """
    w, x, y, z = q_seg[..., 0], q_seg[..., 1], q_seg[..., 2], q_seg[..., 3]
    x_up = 2.0 * (x * z - w * y)  # R[2, 0]
    y_up = 2.0 * (y * z + w * x)  # R[2, 1]
    return np.degrees(trig.arctan2(-x_up, y_up))


def segment_quats(
    q_lumbar_sensor: F64, q_thoracic_sensor: F64, model: SpineModel
) -> tuple[F64, F64]:
    """Segment orientations (each in its own filter's earth frame) from sensor orientations."""
    q_l = Q.multiply(q_lumbar_sensor, Q.conj(model.mount_lumbar))
    q_t = Q.multiply(q_thoracic_sensor, Q.conj(model.mount_thoracic))
    return q_l, q_t


#: One segment's orientation ``(N, 4)``, forward inclination (deg) and right-axis heading (rad).
SegmentSide = tuple[F64, F64, F64]


def segment_side(q_sensor: F64, mount: F64, trig: Trig = NUMPY) -> SegmentSide:
    """:data:`SegmentSide` of one segment from its sensor's orientations ``(N, 4)``."""
    q_seg = Q.multiply(q_sensor, Q.conj(mount))
    return q_seg, sagittal_inclination(q_seg, trig), heading_of_right_axis(q_seg, trig)


@dataclass(frozen=True)
class Geometry:
    """What the engine and batch analysis need of each sample pair, from the two sensor
    orientations: segment orientations ``(N, 4)``, forward inclination of each segment (deg),
    the relative-heading guess that aligns their right axes (rad) and the
    :func:`heading_basis` ``P, K`` ``(N, 4)``."""

    q_l: F64
    q_t: F64
    incl_l: F64
    incl_t: F64
    guess: F64
    p: F64
    k: F64
    trig: Trig = NUMPY

    @classmethod
    def of(
        cls, q_lumbar_sensor: F64, q_thoracic_sensor: F64, model: SpineModel, trig: Trig = NUMPY
    ) -> Geometry:
        """``trig``: where the inverse trigonometric functions come from (:mod:`posture.libm`)."""
        lumbar = segment_side(q_lumbar_sensor, model.mount_lumbar, trig)
        thoracic = segment_side(q_thoracic_sensor, model.mount_thoracic, trig)
        return cls.join(lumbar, thoracic, model, trig)

    @classmethod
    def join(
        cls, lumbar: SegmentSide, thoracic: SegmentSide, model: SpineModel, trig: Trig = NUMPY
    ) -> Geometry:
        """:meth:`of` from each segment's :func:`segment_side`, worked out separately (batch
        analysis does the lumbar one in another process)."""
        (q_l, incl_l, h_l), (q_t, incl_t, h_t) = lumbar, thoracic
        p, k = heading_basis(q_l, q_t, model.neutral)
        return cls(q_l, q_t, incl_l, incl_t, h_l - h_t, p, k, trig)

    def rezero(self, where: NDArray[np.bool_]) -> F64:
        """:func:`rezero_delta` of the samples ``where``, from the heading guess (rad)."""
        return rezero_from_basis(self.p[where], self.k[where], self.guess[where], trig=self.trig)

    def angles(self, delta: F64, where: NDArray[np.bool_]) -> tuple[F64, F64, F64]:
        """Flexion, lateral flexion, rotation (deg) at heading corrections ``delta`` (rad),
        NaN outside ``where``."""
        if where.all():  # (a whole recording with both sensors throughout: no copies)
            return spine_angles(at_heading(self.p, self.k, delta), self.trig)
        out = np.full((3, self.guess.shape[0]), np.nan)
        if where.any():
            r = at_heading(self.p[where], self.k[where], delta[where])
            out[:, where] = spine_angles(r, self.trig)
        return out[0], out[1], out[2]


def relative(q_l: F64, q_t: F64, delta: ArrayLike) -> F64:
    """Thoracic in lumbar segment frame with the heading correction ``delta`` (rad)."""
    return Q.multiply(Q.conj(q_l), Q.multiply(Q.yaw_quat(delta), q_t))


def heading_of_right_axis(q_seg: F64, trig: Trig = NUMPY) -> F64:
    """Heading (rad) of each segment's right (Z) axis in its earth frame.

    The mediolateral axis stays near horizontal in forward bending, so comparing it between
    the two segments gives their relative heading in almost any posture.
    """
    w, x, y, z = q_seg[..., 0], q_seg[..., 1], q_seg[..., 2], q_seg[..., 3]
    return trig.arctan2(2.0 * (y * z - w * x), 2.0 * (x * z + w * y))  # R[1, 2], R[0, 2]


def heading_basis(q_l: F64, q_t: F64, neutral: F64) -> tuple[F64, F64]:
    """``P, K`` with ``conj(q_N) ⊗ relative(q_l, q_t, δ) = cos(δ/2)·P + sin(δ/2)·K``.

    ``yaw(δ) = cos(δ/2) + sin(δ/2)·k`` enters the relative orientation linearly, so the
    neutral-frame orientation at any heading correction δ costs two products once per sample
    and a weighted sum per δ (the re-zero iterations try several). Shapes ``(N, 4)``.
    """
    a = Q.multiply(Q.conj(neutral), Q.conj(q_l))
    k_qt = q_t[..., _K_TIMES] * _K_SIGNS  # k ⊗ q_t = (−z, −y, x, w)
    return Q.multiply(a, q_t), Q.multiply(a, k_qt)


_K_TIMES = np.array([3, 2, 1, 0])
_K_SIGNS = np.array([-1.0, -1.0, 1.0, 1.0])


def at_heading(p: F64, k: F64, delta: ArrayLike) -> F64:
    """Neutral-frame relative orientations ``(N, 4)`` at heading corrections ``delta`` (rad)
    from :func:`heading_basis`."""
    half = 0.5 * np.asarray(delta, dtype=np.float64)[..., None]
    return np.cos(half) * p + np.sin(half) * k


def rezero_delta(q_l: F64, q_t: F64, neutral: F64, delta: ArrayLike, iterations: int = 3) -> F64:
    """Heading corrections that make axial rotation zero in the given postures.

    Used while the wearer stands quietly (trunk upright), where no axial twist is assumed.
    Rotation grows with ``delta`` (turning the thoracic frame counter-clockwise about the
    vertical turns the upper trunk to the left), so a few fixed-point steps converge.
    """
    p, k = heading_basis(q_l, q_t, neutral)
    return rezero_from_basis(p, k, delta, iterations)


def rezero_from_basis(
    p: F64, k: F64, delta: ArrayLike, iterations: int = 3, trig: Trig = NUMPY
) -> F64:
    """:func:`rezero_delta` from a :func:`heading_basis` already at hand (rad)."""
    d = np.asarray(delta, dtype=np.float64)
    for _ in range(iterations):
        r = at_heading(p, k, d)
        d = d - _axial(r[..., 0], r[..., 1], r[..., 2], r[..., 3], trig)
    return trig.arctan2(np.sin(d), np.cos(d))
