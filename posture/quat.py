"""Vectorised quaternion helpers (scalar first, ``w, x, y, z``, Hamilton product).

A quaternion ``q`` of a sensor maps sensor coordinates to reference coordinates:
``v_ref = q ⊗ [0, v] ⊗ q*`` (the convention of VQF's ``quat6D``). Every function takes arrays
of shape ``(4,)`` or ``(N, 4)`` and broadcasts; nothing here allocates per-sample Python
objects. scipy is used only at its boundary (``Rotation.from_quat(q, scalar_first=True)``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from posture.libm import NUMPY, Trig

F64 = NDArray[np.float64]


def as_quat(q: ArrayLike) -> F64:
    """Return ``q`` as a float64 array of shape ``(..., 4)``."""
    a = np.asarray(q, dtype=np.float64)
    if a.shape[-1] != 4:
        raise ValueError(f"quaternions need 4 components in the last axis, got shape {a.shape}")
    return a


def dot(p: F64, q: F64) -> F64:
    """Component dot product ``((p0·q0 + p1·q1) + p2·q2) + p3·q3``, ``(..., 4)`` → ``(...)``
    (summed in this fixed order, as :func:`posture.scalar_math.dot`)."""
    m = p * q
    return ((m[..., 0] + m[..., 1]) + m[..., 2]) + m[..., 3]


def normalize(q: ArrayLike) -> F64:
    """Unit-normalise quaternions, shape ``(..., 4)``."""
    a = as_quat(q)
    return a / np.sqrt(dot(a, a))[..., None]


def conj(q: ArrayLike) -> F64:
    """Conjugate (the inverse of a unit quaternion), shape ``(..., 4)``."""
    a = as_quat(q)
    return a * np.array([1.0, -1.0, -1.0, -1.0])


# Hamilton product as signed sums of the 16 component products p_i·q_j: row k lists, for
# output component k, the flat index i·4 + j of each term and its sign, in the order of the
# textbook formula (so the sums round exactly as ``w1·w2 − x1·x2 − y1·y2 − z1·z2`` etc.).
_TERMS = np.array([[0, 5, 10, 15], [1, 4, 11, 14], [2, 7, 8, 13], [3, 6, 9, 12]])
_SIGNS = np.array(
    [[1.0, -1.0, -1.0, -1.0], [1.0, 1.0, 1.0, -1.0], [1.0, -1.0, 1.0, 1.0], [1.0, 1.0, -1.0, 1.0]]
)


def multiply(p: ArrayLike, q: ArrayLike) -> F64:
    """Hamilton product ``p ⊗ q`` with broadcasting, shapes ``(..., 4)``."""
    a = as_quat(p)
    b = as_quat(q)
    if a.size + b.size >= _COLUMNWISE_SIZE:
        return _multiply_columns(a, b)
    # One outer product and one gather instead of 28 one-column operations: on the small
    # blocks of live streaming numpy's per-call overhead, not the arithmetic, is the cost.
    outer = a[..., :, None] * b[..., None, :]
    terms = outer.reshape(outer.shape[:-2] + (16,))[..., _TERMS] * _SIGNS
    return ((terms[..., 0] + terms[..., 1]) + terms[..., 2]) + terms[..., 3]


#: From this many components on, :func:`multiply` works column by column: on whole recordings
#: the 16-term outer product and its gather cost ~3× the arithmetic (memory traffic).
_COLUMNWISE_SIZE = 4096


def _multiply_columns(a: F64, b: F64) -> F64:
    """:func:`multiply` one output column at a time, the same sums in the same order (so the
    same bits: ``x − y`` is ``x + (−1·y)`` exactly). The inputs are first copied to one
    contiguous row per component and the sums run in place: on whole recordings strided
    columns and temporaries, not the arithmetic, were most of the cost (~35 % less)."""
    shape = np.broadcast_shapes(a.shape, b.shape)
    ac, bc = _components(a, shape), _components(b, shape)
    out = np.empty((4,) + shape[:-1])
    tmp = np.empty(shape[:-1])
    for k, (terms, signs) in enumerate(zip(_TERMS.tolist(), _SIGNS.tolist(), strict=True)):
        o = out[k]
        np.multiply(ac[terms[0] // 4], bc[terms[0] % 4], out=o)
        for idx, sign in zip(terms[1:], signs[1:], strict=True):
            np.multiply(ac[idx // 4], bc[idx % 4], out=tmp)
            (np.add if sign > 0 else np.subtract)(o, tmp, out=o)
    return np.ascontiguousarray(np.moveaxis(out, 0, -1))


def _components(q: F64, shape: tuple[int, ...]) -> F64 | list[float]:
    """The four components of ``q`` broadcast to ``shape``, one contiguous row each; a single
    quaternion ``(4,)`` (a mounting, the neutral) as four floats: the same products, without
    copying it to every sample."""
    if q.shape == (4,):
        return [float(c) for c in q]
    return np.ascontiguousarray(np.moveaxis(np.broadcast_to(q, shape), -1, 0))


def _cross(u: F64, v: F64) -> F64:
    """``np.cross`` for ``(..., 3)`` arrays without its axis bookkeeping."""
    out = np.empty(u.shape if u.shape == v.shape else np.broadcast_shapes(u.shape, v.shape))
    out[..., 0] = u[..., 1] * v[..., 2] - u[..., 2] * v[..., 1]
    out[..., 1] = u[..., 2] * v[..., 0] - u[..., 0] * v[..., 2]
    out[..., 2] = u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]
    return out


def rotate(q: ArrayLike, v: ArrayLike) -> F64:
    """Rotate vectors ``v`` (``(..., 3)``) by unit quaternions ``q`` (``(..., 4)``)."""
    a = as_quat(q)
    vec = np.asarray(v, dtype=np.float64)
    w = a[..., :1]
    u = a[..., 1:]
    t = 2.0 * _cross(u, vec)
    return vec + w * t + _cross(u, t)


def from_axis_angle(axis: ArrayLike, angle: ArrayLike) -> F64:
    """Quaternions for rotations by ``angle`` (rad, ``(...)``) about ``axis`` (``(..., 3)``)."""
    ax = np.asarray(axis, dtype=np.float64)
    ax = ax / np.linalg.norm(ax, axis=-1, keepdims=True)
    half = 0.5 * np.asarray(angle, dtype=np.float64)[..., None]
    return np.concatenate((np.cos(half), np.sin(half) * ax), axis=-1)


def from_matrix(m: ArrayLike) -> F64:
    """Quaternions (``(..., 4)``, w ≥ 0) from rotation matrices (``(..., 3, 3)``)."""
    from scipy.spatial.transform import Rotation

    mat = np.asarray(m, dtype=np.float64)
    q = Rotation.from_matrix(mat.reshape(-1, 3, 3)).as_quat(scalar_first=True)
    q = np.where(q[:, :1] < 0, -q, q)
    return q.reshape(mat.shape[:-2] + (4,))


def angle(q: ArrayLike) -> F64:
    """Rotation angle (rad, in ``[0, π]``) of unit quaternions ``(..., 4)``."""
    a = normalize(q)
    return 2.0 * np.arccos(np.clip(np.abs(a[..., 0]), 0.0, 1.0))


def slerp(q0: ArrayLike, q1: ArrayLike, s: ArrayLike, trig: Trig = NUMPY) -> F64:
    """Spherical interpolation between ``q0`` and ``q1`` at fraction ``s`` in ``[0, 1]``.

    Shapes broadcast: ``q0``, ``q1`` ``(..., 4)``, ``s`` ``(...)``. Takes the short path.
    ``trig``: where ``arccos`` comes from (:mod:`posture.libm`).
    """
    a = normalize(q0)
    b = normalize(q1)
    frac = np.asarray(s, dtype=np.float64)
    d = dot(a, b)
    b = np.where((d < 0)[..., None], -b, b)
    d = np.abs(d)
    theta = trig.arccos(np.minimum(d, 1.0))
    sin_t = np.sin(theta)
    small = sin_t < 1e-9
    safe = np.where(small, 1.0, sin_t)
    w0 = np.where(small, 1.0 - frac, np.sin((1.0 - frac) * theta) / safe)
    w1 = np.where(small, frac, np.sin(frac * theta) / safe)
    return normalize(w0[..., None] * a + w1[..., None] * b)


def yaw_quat(angle_rad: ArrayLike) -> F64:
    """Rotations about the reference frame's vertical z axis (ENU up), shape ``(..., 4)``."""
    half = 0.5 * np.asarray(angle_rad, dtype=np.float64)
    zeros = np.zeros_like(half)
    return np.stack((np.cos(half), zeros, zeros, np.sin(half)), axis=-1)
