"""Lossless compact packing of sample arrays for the session file (schema version 4).

Raw IMU samples arrive as float64 SI values, but every supported sensor sends int16 counts
times a fixed scale (or float32, Movella DOT). Each array is stored in the most compact form
that gives back **exactly** the same float64 bits, checked on every write:

* ``COUNTS`` — int16 counts plus one float64 scale per column, decoded as
  ``counts.astype(float64) * scale`` (the same product the sensor profiles compute). The scale
  is found among the known sensor scales (:data:`KNOWN_SCALES`) or the last one that worked.
* ``F32`` — float32 values that widen exactly to the float64 ones.
* ``F64`` — anything else (fused quaternions, angles, simulated values), as float64 bits; a
  column identical to an earlier one (e.g. hip angle = lumbar inclination) is stored once.
* ``I64`` — integers (ordinals, sequence numbers).

Numbers are delta-coded along time (on their integer bit patterns, so wrap-around keeps it
exact) and byte-shuffled before the whole batch is zlib-compressed, which is where most of
the saving on smooth signals and regular time stamps comes from.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from posture.constants import G

F64, F32, COUNTS, I64, U8 = 1, 2, 3, 4, 5
_OWN = 255  # F64 column map: the column has its own data (else: index of its twin)
_HEAD = struct.Struct("<BBI")  # codec, columns, rows

# The count → SI scales of the sensor profiles (firmware_bridge.profiles): accelerometer
# ±fs g, gyroscope ±fs °/s over 32768 counts, magnetometer 0.1 µT/count. A scale that is not
# listed is still found when it worked for the previous batch; otherwise the array falls back
# to F32/F64 — never to a lossy form. Largest first: scales a power of two apart both fit
# counts exactly, and the larger one gives the smaller counts.
KNOWN_SCALES: tuple[float, ...] = tuple(
    sorted(
        (
            *(fs * G / 32768.0 for fs in (2, 4, 8, 16, 32)),
            *(np.deg2rad(fs) / 32768.0 for fs in (125, 245, 250, 500, 1000, 2000, 4000)),
            *(float(np.deg2rad(fs / 32768.0)) for fs in (250, 500, 1000, 2000)),
            0.1,
            180.0 / 32768.0,
        ),
        reverse=True,
    )
)


class CodecError(ValueError):
    """A packed batch is corrupt (wrong length, unknown codec)."""


def _same_bits(a: NDArray[np.float64], b: NDArray[np.float64]) -> bool:
    return bool(np.array_equal(a.view(np.uint64), b.view(np.uint64)))


def _shuffle(a: NDArray[np.generic]) -> bytes:
    """Byte-shuffle a C-contiguous ``(n, c)`` array column by column: all first bytes, ..."""
    n = a.shape[0]
    b = np.ascontiguousarray(a.T).view(np.uint8).reshape(a.shape[1], n, a.itemsize)
    return np.ascontiguousarray(b.transpose(0, 2, 1)).tobytes()


def _unshuffle(buf: bytes, dtype: str, n: int, c: int) -> NDArray[np.generic]:
    size = np.dtype(dtype).itemsize
    b = np.frombuffer(buf, np.uint8).reshape(c, size, n).transpose(0, 2, 1)
    return np.ascontiguousarray(b).view(dtype).reshape(c, n).T


def _delta(u: NDArray[Any]) -> NDArray[Any]:
    d = u.copy()
    d[1:] -= u[:-1]  # unsigned: wraps, so exactly invertible by cumsum
    return d


def _counts_scales(
    a: NDArray[np.float64], hint: Sequence[float]
) -> tuple[NDArray[np.int16], NDArray[np.float64]] | None:
    """int16 counts and per-column scales that reproduce ``a`` bit for bit, if any."""
    if a.size == 0 or not np.isfinite(a).all():
        return None
    counts = np.empty(a.shape, np.int16)
    scales = np.empty(a.shape[1])
    for j in range(a.shape[1]):
        col = a[:, j]
        for s in (*hint, *KNOWN_SCALES):
            k = np.rint(col / s)
            if k.min() < -32768 or k.max() > 32767:
                continue
            if _same_bits(k.astype(np.int16).astype(np.float64) * s, col):
                counts[:, j] = k
                scales[j] = s
                break
        else:
            return None
    return counts, scales


def encode(
    a: NDArray[np.generic], hint: Sequence[float] = (), *, counts: bool = True
) -> tuple[bytes, list[float]]:
    """One array ``(n,)`` or ``(n, c)`` → section bytes, and the count scales used (or []).

    ``hint``: scales to try first; ``counts=False`` skips the search (computed values).
    """
    m = a if a.ndim == 2 else a.reshape(-1, 1)
    n, c = m.shape
    if m.dtype.kind in "iu" and m.dtype.itemsize == 1 or m.dtype == np.bool_:
        return _HEAD.pack(U8, c, n) + _shuffle(m.astype(np.uint8)), []
    if m.dtype.kind in "iu":
        u = _delta(m.astype("<i8").view("<u8"))
        return _HEAD.pack(I64, c, n) + _shuffle(u), []
    f = np.ascontiguousarray(m, "<f8")
    cs = _counts_scales(f, hint) if counts else None
    if cs is not None:
        ints, scales = cs
        body = _shuffle(_delta(ints.view("<u2")))
        return _HEAD.pack(COUNTS, c, n) + scales.astype("<f8").tobytes() + body, scales.tolist()
    f32 = f.astype("<f4")
    if _same_bits(f32.astype("<f8"), f):
        return _HEAD.pack(F32, c, n) + _shuffle(_delta(f32.view("<u4"))), []
    u = f.view("<u8")
    twin = [_OWN] * c
    for j in range(1, min(c, _OWN)):
        for i in range(j):
            if twin[i] == _OWN and np.array_equal(u[:, i], u[:, j]):
                twin[j] = i
                break
    own = [j for j in range(c) if twin[j] == _OWN]
    body = _shuffle(_delta(u[:, own] if len(own) < c else u))
    return _HEAD.pack(F64, c, n) + bytes(twin) + body, []


def decode(buf: memoryview, pos: int) -> tuple[NDArray[Any], int]:
    """Inverse of :func:`encode` at ``buf[pos:]``: ``(n, c)`` array and the next position."""
    try:
        codec, c, n = _HEAD.unpack_from(buf, pos)
    except struct.error:
        raise CodecError("packed batch is truncated") from None
    pos += _HEAD.size
    scales = None
    twin: list[int] = []
    if codec == COUNTS:
        scales = np.frombuffer(buf, "<f8", c, pos)
        pos += 8 * c
    elif codec == F64:
        twin = list(buf[pos : pos + c])
        pos += c
    c_all, c = c, (sum(1 for j in twin if j == _OWN) if codec == F64 else c)
    dtype = {F64: "<u8", F32: "<u4", COUNTS: "<u2", I64: "<u8", U8: "u1"}.get(codec)
    if dtype is None:
        raise CodecError(f"unknown array codec {codec} in a packed batch")
    size = np.dtype(dtype).itemsize * n * c
    if pos + size > len(buf):
        raise CodecError("packed batch is truncated")
    u = _unshuffle(bytes(buf[pos : pos + size]), dtype, n, c)
    pos += size
    if codec == U8:
        return u, pos
    u = np.cumsum(u, axis=0, dtype=u.dtype)
    if codec == COUNTS:
        assert scales is not None
        return u.view("<i2").astype(np.float64) * scales, pos
    if codec == I64:
        return u.view("<i8"), pos
    if codec == F32:
        return u.view("<f4").astype(np.float64), pos
    if c < c_all:
        full = np.empty((n, c_all), "<u8")
        full[:, [j for j in range(c_all) if twin[j] == _OWN]] = u
        for j, i in enumerate(twin):
            if i != _OWN:
                full[:, j] = full[:, i]
        u = full
    return u.view("<f8"), pos


def compress(sections: Sequence[bytes]) -> bytes:
    return zlib.compress(b"".join(sections), 6)


def decompress(blob: bytes) -> memoryview:
    try:
        return memoryview(zlib.decompress(blob))
    except zlib.error as exc:
        raise CodecError(f"packed batch does not decompress ({exc})") from None
