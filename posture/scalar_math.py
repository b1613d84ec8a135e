"""Scalar (one sample) versions of the angle math, in plain Python floats.

The per-sample streaming path (:meth:`posture.engine.PostureEngine.push_pair`) would spend
most of its time in numpy's per-call overhead on arrays of one row; these helpers do the same
math with the ``math`` module on 4-tuples. They mirror :mod:`posture.quat` and
:mod:`posture.angles` (tests compare them to within 1e-9°).
"""

from __future__ import annotations

import math

Quat = tuple[float, float, float, float]


def qmul(p: Quat, q: Quat) -> Quat:
    w1, x1, y1, z1 = p
    w2, x2, y2, z2 = q
    return (
        w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
        w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
        w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
        w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
    )


def qconj(q: Quat) -> Quat:
    return (q[0], -q[1], -q[2], -q[3])


def slerp(a: Quat, b: Quat, s: float) -> Quat:
    d = a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3]
    if d < 0:
        b = (-b[0], -b[1], -b[2], -b[3])
        d = -d
    theta = math.acos(min(1.0, d))
    st = math.sin(theta)
    if st < 1e-9:
        w0, w1 = 1.0 - s, s
    else:
        w0, w1 = math.sin((1.0 - s) * theta) / st, math.sin(s * theta) / st
    r = tuple(w0 * u + w1 * v for u, v in zip(a, b, strict=True))
    n = math.sqrt(sum(c * c for c in r))
    return (r[0] / n, r[1] / n, r[2] / n, r[3] / n)


def yaw(angle: float) -> Quat:
    h = 0.5 * angle
    return (math.cos(h), 0.0, 0.0, math.sin(h))


def zxy_deg(q: Quat) -> tuple[float, float, float]:
    """Flexion, lateral flexion, rotation (deg) of a unit quaternion (reported signs)."""
    w, x, y, z = q
    r21 = 2.0 * (y * z + w * x)
    r20 = 2.0 * (x * z - w * y)
    r22 = 1.0 - 2.0 * (x * x + y * y)
    r01 = 2.0 * (x * y - w * z)
    r11 = 1.0 - 2.0 * (x * x + z * z)
    b = math.asin(max(-1.0, min(1.0, r21)))
    return (
        -math.degrees(math.atan2(-r01, r11)),
        math.degrees(b),
        math.degrees(math.atan2(-r20, r22)),
    )


def inclination_deg(q: Quat) -> float:
    w, x, y, z = q
    return math.degrees(math.atan2(-2.0 * (x * z - w * y), 2.0 * (y * z + w * x)))


def right_axis_heading(q: Quat) -> float:
    """Heading (rad) of the segment's Z axis in its earth frame (as in ``angles``)."""
    w, x, y, z = q
    zx = 2.0 * (x * z + w * y)
    zy = 2.0 * (y * z - w * x)
    return math.atan2(zy, zx)
