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
    """Spherical interpolation at fraction ``s``, short path (:func:`posture.quat.slerp`).

    :func:`normalize` and :func:`dot` written out (same expressions and order): the live
    engine slerps every sample."""
    w, x, y, z = q0
    n = math.sqrt(((w * w + x * x) + y * y) + z * z)
    aw, ax, ay, az = w / n, x / n, y / n, z / n
    w, x, y, z = q1
    n = math.sqrt(((w * w + x * x) + y * y) + z * z)
    bw, bx, by, bz = w / n, x / n, y / n, z / n
    d = ((aw * bw + ax * bx) + ay * by) + az * bz
    if d < 0:
        bw, bx, by, bz = -bw, -bx, -by, -bz
        d = -d
    theta = math.acos(min(d, 1.0))
    st = math.sin(theta)
    if st < 1e-9:
        w0, w1 = 1.0 - s, s
    else:
        w0, w1 = math.sin((1.0 - s) * theta) / st, math.sin(s * theta) / st
    w, x, y, z = w0 * aw + w1 * bw, w0 * ax + w1 * bx, w0 * ay + w1 * by, w0 * az + w1 * bz
    n = math.sqrt(((w * w + x * x) + y * y) + z * z)
    return (w / n, x / n, y / n, z / n)


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
    """:func:`posture.angles.rezero_from_basis` for one sample (rad).

    :func:`at_heading` and :func:`_axial` written out (same expressions, same order): the
    live engine re-zeroes most upright samples."""
    pw, px, py, pz = p
    kw, kx, ky, kz = k
    cos, sin, atan2 = math.cos, math.sin, math.atan2
    d = delta
    for _ in range(iterations):
        c, s = cos(0.5 * d), sin(0.5 * d)
        w, x, y, z = c * pw + s * kw, c * px + s * kx, c * py + s * ky, c * pz + s * kz
        d = d - atan2(-2.0 * (x * z - w * y), 1.0 - 2.0 * (x * x + y * y))
    return atan2(sin(d), cos(d))  # wrapped as angles.rezero_from_basis


def segment_geometry(
    q_ls: Quat, q_ts: Quat, mount_l_c: Quat, mount_t_c: Quat, neutral_c: Quat
) -> tuple[float, float, float, Quat, Quat]:
    """Everything the live engine needs of one sample pair, the functions above written out
    in one body (same expressions, same order, so the same bits; tested): the per-sample path
    runs this 200 times a second and the nested calls cost more than the arithmetic.

    Args:
        q_ls, q_ts: lumbar and thoracic sensor quaternions.
        mount_l_c, mount_t_c: conjugated mountings; neutral_c: conjugated neutral.

    Returns:
        ``(lumbar inclination deg, thoracic inclination deg, heading guess rad, P, K)`` as
        :func:`sagittal_inclination`, :func:`heading_of_right_axis` (lumbar − thoracic) and
        :func:`heading_basis` of the segment quaternions ``q_ls ⊗ mount_l_c``, ``q_ts ⊗ mount_t_c``.
    """
    w1, x1, y1, z1 = q_ls
    w2, x2, y2, z2 = mount_l_c
    lw = w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2
    lx = w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2
    ly = w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2
    lz = w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2
    w1, x1, y1, z1 = q_ts
    w2, x2, y2, z2 = mount_t_c
    tw = w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2
    tx = w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2
    ty = w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2
    tz = w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2
    # a = conj(neutral) ⊗ conj(q_l)
    w1, x1, y1, z1 = neutral_c
    w2, x2, y2, z2 = lw, -lx, -ly, -lz
    aw = w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2
    ax = w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2
    ay = w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2
    az = w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2
    p = (
        aw * tw - ax * tx - ay * ty - az * tz,
        aw * tx + ax * tw + ay * tz - az * ty,
        aw * ty - ax * tz + ay * tw + az * tx,
        aw * tz + ax * ty - ay * tx + az * tw,
    )
    w2, x2, y2, z2 = -tz, -ty, tx, tw  # k ⊗ q_t
    k = (
        aw * w2 - ax * x2 - ay * y2 - az * z2,
        aw * x2 + ax * w2 + ay * z2 - az * y2,
        aw * y2 - ax * z2 + ay * w2 + az * x2,
        aw * z2 + ax * y2 - ay * x2 + az * w2,
    )
    atan2, degrees = math.atan2, math.degrees
    guess = atan2(2.0 * (ly * lz - lw * lx), 2.0 * (lx * lz + lw * ly)) - atan2(
        2.0 * (ty * tz - tw * tx), 2.0 * (tx * tz + tw * ty)
    )
    incl_l = degrees(atan2(-2.0 * (lx * lz - lw * ly), 2.0 * (ly * lz + lw * lx)))
    incl_t = degrees(atan2(-2.0 * (tx * tz - tw * ty), 2.0 * (ty * tz + tw * tx)))
    return incl_l, incl_t, guess, p, k
