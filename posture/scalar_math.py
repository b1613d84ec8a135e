"""Scalar (one sample) twins of :mod:`posture.quat` and :mod:`posture.angles`, in Python floats.

The per-sample streaming path (:meth:`posture.engine.PostureEngine.push_pair`) would spend
most of its time in numpy's per-call overhead on arrays of one row; these functions do the
same math with the ``math`` module on 4-tuples. Each has the name of its array twin (call
them as ``scalar_math.multiply`` etc. so the scalar version is visible at the call site) and
the same formula in the same order, so with the array functions' ``trig=posture.libm.LIBM``
they agree bit for bit (tested): the live engine relies on it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

Quat = tuple[float, float, float, float]


def as_quat(q: Iterable[float]) -> Quat:
    """A ``(4,)`` array or sequence as a 4-tuple of floats."""
    w, x, y, z = (float(c) for c in q)
    return (w, x, y, z)


def multiply(p: Quat, q: Quat) -> Quat:
    """Hamilton product ``p ⊗ q`` (:func:`posture.quat.multiply`)."""
    w1, x1, y1, z1 = p
    w2, x2, y2, z2 = q
    return (
        w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
        w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
        w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
        w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
    )


def conj(q: Quat) -> Quat:
    """Conjugate (:func:`posture.quat.conj`)."""
    return (q[0], -q[1], -q[2], -q[3])


def dot(p: Quat, q: Quat) -> float:
    """Component dot product in :func:`posture.quat.dot`'s order."""
    return ((p[0] * q[0] + p[1] * q[1]) + p[2] * q[2]) + p[3] * q[3]


def normalize(q: Quat) -> Quat:
    """Unit quaternion (:func:`posture.quat.normalize`)."""
    n = math.sqrt(dot(q, q))
    return (q[0] / n, q[1] / n, q[2] / n, q[3] / n)


def slerp(q0: Quat, q1: Quat, s: float) -> Quat:
    """Spherical interpolation at fraction ``s``, short path (:func:`posture.quat.slerp`)."""
    a, b = normalize(q0), normalize(q1)
    d = dot(a, b)
    if d < 0:
        b = (-b[0], -b[1], -b[2], -b[3])
        d = -d
    theta = math.acos(min(d, 1.0))
    st = math.sin(theta)
    if st < 1e-9:
        w0, w1 = 1.0 - s, s
    else:
        w0, w1 = math.sin((1.0 - s) * theta) / st, math.sin(s * theta) / st
    return normalize(
        (w0 * a[0] + w1 * b[0], w0 * a[1] + w1 * b[1], w0 * a[2] + w1 * b[2], w0 * a[3] + w1 * b[3])
    )


def _axial(w: float, x: float, y: float, z: float) -> float:
    return math.atan2(-2.0 * (x * z - w * y), 1.0 - 2.0 * (x * x + y * y))


def spine_angles(r: Quat) -> tuple[float, float, float]:
    """Flexion, lateral flexion, rotation (deg) of a neutral-frame relative orientation
    (:func:`posture.angles.spine_angles`)."""
    w, x, y, z = r
    r21 = 2.0 * (y * z + w * x)
    r01 = 2.0 * (x * y - w * z)
    r11 = 1.0 - 2.0 * (x * x + z * z)
    b = math.asin(max(-1.0, min(1.0, r21)))
    return (
        -math.degrees(math.atan2(-r01, r11)),
        math.degrees(b),
        math.degrees(_axial(w, x, y, z)),
    )


def sagittal_inclination(q: Quat) -> float:
    """Forward tilt from vertical, deg (:func:`posture.angles.sagittal_inclination`)."""
    w, x, y, z = q
    return math.degrees(math.atan2(-2.0 * (x * z - w * y), 2.0 * (y * z + w * x)))


def heading_of_right_axis(q: Quat) -> float:
    """Heading (rad) of the segment's Z axis (:func:`posture.angles.heading_of_right_axis`)."""
    w, x, y, z = q
    return math.atan2(2.0 * (y * z - w * x), 2.0 * (x * z + w * y))


def heading_basis(q_l: Quat, q_t: Quat, neutral: Quat) -> tuple[Quat, Quat]:
    """``P, K`` of :func:`posture.angles.heading_basis`."""
    a = multiply(conj(neutral), conj(q_l))
    w, x, y, z = q_t
    return multiply(a, q_t), multiply(a, (-z, -y, x, w))


def at_heading(p: Quat, k: Quat, delta: float) -> Quat:
    """:func:`posture.angles.at_heading` for one sample."""
    c, s = math.cos(0.5 * delta), math.sin(0.5 * delta)
    return (c * p[0] + s * k[0], c * p[1] + s * k[1], c * p[2] + s * k[2], c * p[3] + s * k[3])


def rezero_from_basis(p: Quat, k: Quat, delta: float, iterations: int = 3) -> float:
    """:func:`posture.angles.rezero_from_basis` for one sample (rad)."""
    d = delta
    for _ in range(iterations):
        d = d - _axial(*at_heading(p, k, d))
    return math.atan2(math.sin(d), math.cos(d))  # wrapped as angles.rezero_from_basis
