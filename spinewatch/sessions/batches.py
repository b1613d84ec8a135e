"""Packing runs of blocks into the compact ``raw_batches`` / ``angle_batches`` rows (schema 4).

A raw batch holds consecutive blocks of one role and one shape (IMU with or without
magnetometer and sequence numbers, or orientation): their arrival ordinals and lengths and
the concatenated arrays, each compacted losslessly by :mod:`spinewatch.sessions.codec`.
Unpacking gives back the very blocks that were queued (same ordinals, lengths, float64 bits).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from posture.records import ANGLE_COLUMNS, AngleBlock, ImuBlock, OrientationBlock, unchecked
from spinewatch.sessions import codec

Block = ImuBlock | OrientationBlock
Scales = dict[tuple[str, str], list[float]]

_MAG, _SEQ, _QUAT = 1, 2, 4

RAW_BATCH_COLUMNS = "role, kind, ord0, ord1, blocks, n, t0, t1, seq0, seq1, n_seq, mag, data"
ANGLE_BATCH_COLUMNS = "blocks, n, t0, t1, data"


def shape_key(block: Block) -> tuple[str, int]:
    """Blocks with equal keys can share a batch."""
    if isinstance(block, OrientationBlock):
        return block.sensor, _QUAT
    return block.sensor, (_MAG if block.mag is not None else 0) | (
        _SEQ if block.seq is not None else 0
    )


def _span(ts: Sequence[NDArray[np.float64]]) -> tuple[float | None, float | None]:
    full = [t for t in ts if len(t)]
    if not full:
        return None, None
    return float(min(t[0] for t in full)), float(max(t[-1] for t in full))


def pack_raw_batch(items: Sequence[tuple[int, Block]], hints: Scales) -> tuple[Any, ...]:
    """A ``raw_batches`` row (:data:`RAW_BATCH_COLUMNS` order) for blocks of one shape key.

    ``hints`` maps ``(role, field)`` to the count scales that worked last; it is updated.
    """
    ords = np.array([k for k, _ in items], np.int64)
    blocks = [b for _, b in items]
    role, flags = shape_key(blocks[0])
    ns = np.array([len(b) for b in blocks], np.int64)
    sections = [bytes([flags]), codec.encode(ords)[0], codec.encode(ns)[0]]
    t = np.concatenate([b.t for b in blocks])
    sections.append(codec.encode(t, counts=False)[0])
    fields: list[tuple[str, NDArray[Any]]] = []
    # One shape key: all blocks are orientations, or all raw with the same optional fields.
    imu = [b for b in blocks if isinstance(b, ImuBlock)]
    if flags & _QUAT:
        quats = [b.quat for b in blocks if isinstance(b, OrientationBlock)]
        fields.append(("quat", np.concatenate(quats)))
    else:
        fields += [("acc", np.concatenate([b.acc for b in imu]))]
        fields += [("gyr", np.concatenate([b.gyr for b in imu]))]
        if flags & _MAG:
            fields.append(("mag", np.concatenate([b.mag for b in imu if b.mag is not None])))
    for name, a in fields:
        sec, used = codec.encode(a, hints.get((role, name), ()), counts=name != "quat")
        if used:
            hints[(role, name)] = used
        sections.append(sec)
    seq0 = seq1 = None
    n_seq = 0
    if flags & _SEQ:
        seq = np.concatenate([b.seq for b in imu if b.seq is not None])
        sections.append(codec.encode(seq)[0])
        if len(seq):
            seq0, seq1, n_seq = int(seq[0]), int(seq[-1]), len(seq)
    t0, t1 = _span([b.t for b in blocks])
    kind = "quat" if flags & _QUAT else "imu"
    return (role, kind, int(ords[0]), int(ords[-1]), len(blocks), int(ns.sum()), t0, t1,
            seq0, seq1, n_seq, int(bool(flags & _MAG)), codec.compress(sections))  # fmt: skip


def unpack_raw_batch(role: str, data: bytes) -> list[tuple[int, Block]]:
    """Inverse of :func:`pack_raw_batch`: ``(ordinal, block)`` in the order they were packed."""
    buf = codec.decompress(data)
    if not len(buf):
        raise codec.CodecError("empty packed batch")
    flags = buf[0]
    ords, pos = codec.decode(buf, 1)
    ns, pos = codec.decode(buf, pos)
    t, pos = codec.decode(buf, pos)
    arrays = []
    for _ in range(1 if flags & _QUAT else 3 if flags & _MAG else 2):
        a, pos = codec.decode(buf, pos)
        arrays.append(a)
    seq = None
    if flags & _SEQ:
        seq, pos = codec.decode(buf, pos)
    if pos != len(buf):
        raise codec.CodecError("packed batch has trailing bytes")
    n = len(t)
    width = 4 if flags & _QUAT else 3
    _check_rows(ns, n, t, *arrays, *(() if seq is None else (seq,)))
    if ords.shape != ns.shape or ords.dtype.kind not in "iu":
        raise codec.CodecError("packed batch's ordinals do not match its blocks")
    if any(a.shape[1] != width for a in arrays) or t.shape[1] != 1:
        raise codec.CodecError("packed batch has arrays of the wrong width")
    # Checked and converted once per batch (as the block classes would do per block), then
    # sliced into blocks without the per-block checks: a batch holds hundreds of blocks.
    tt = np.ascontiguousarray(t[:, 0], np.float64)
    cols = [np.ascontiguousarray(a, np.float64) for a in arrays]
    sq = None if seq is None else np.ascontiguousarray(seq[:, 0], np.int64)
    cuts = np.concatenate(([0], np.cumsum(ns[:, 0]))).tolist()
    out: list[tuple[int, Block]] = []
    for k, i0, i1 in zip(ords[:, 0].tolist(), cuts[:-1], cuts[1:], strict=True):
        s = slice(i0, i1)
        if flags & _QUAT:
            blk: Block = OrientationBlock(role, tt[s], cols[0][s])  # rare: checked
        else:
            mag = cols[2][s] if flags & _MAG else None
            blk = unchecked(ImuBlock, role, tt[s], cols[0][s], cols[1][s], mag,
                            None if sq is None else sq[s])  # fmt: skip
        out.append((k, blk))
    return out


def _check_rows(ns: NDArray[Any], n: int, *arrays: NDArray[Any]) -> None:
    """Block lengths that cut ``n`` rows exactly, and every array ``(n, c)``."""
    if ns.dtype.kind not in "iu":
        raise codec.CodecError("packed batch's block lengths are not integers")
    if ns.ndim != 2 or ns.shape[1] != 1 or (len(ns) and ns.min() < 0) or int(ns.sum()) != n:
        raise codec.CodecError("packed batch's block lengths do not add up to its rows")
    if any(a.ndim != 2 or a.shape[0] != n for a in arrays):
        raise codec.CodecError("packed batch has arrays of different lengths")


def pack_angle_batch(items: Sequence[tuple[AngleBlock, NDArray[np.bool_]]]) -> tuple[Any, ...]:
    """An ``angle_batches`` row (:data:`ANGLE_BATCH_COLUMNS` order) for angle updates."""
    ns = np.array([len(a) for a, _ in items], np.int64)
    a = AngleBlock.concat([a for a, _ in items])
    load = np.concatenate([np.asarray(u, bool) for _, u in items])
    cols = np.column_stack([getattr(a, c) for c in ANGLE_COLUMNS])
    sections = [
        codec.encode(ns)[0],
        codec.encode(a.t, counts=False)[0],
        codec.encode(cols, counts=False)[0],
        codec.encode(a.flags)[0],
        codec.encode(load)[0],
    ]
    t0, t1 = _span([a.t])
    return len(items), len(a), t0, t1, codec.compress(sections)


def unpack_angle_batch(
    data: bytes, whole: bool = False
) -> list[tuple[AngleBlock, NDArray[np.bool_]]]:
    """Inverse of :func:`pack_angle_batch`; ``whole``: the batch's updates as one block."""
    buf = codec.decompress(data)
    ns, pos = codec.decode(buf, 0)
    t, pos = codec.decode(buf, pos)
    cols, pos = codec.decode(buf, pos)
    flags, pos = codec.decode(buf, pos)
    load, pos = codec.decode(buf, pos)
    if pos != len(buf):
        raise codec.CodecError("packed angle batch has trailing bytes")
    n = len(t)
    _check_rows(ns, n, t, cols, flags, load)
    if cols.shape[1] != len(ANGLE_COLUMNS) or t.shape[1] != 1 or flags.shape[1] != 1:
        raise codec.CodecError("packed angle batch has arrays of the wrong width")
    if load.shape[1] != 1:
        raise codec.CodecError("packed angle batch has arrays of the wrong width")
    # Converted once per batch (one contiguous row per column), then sliced per update.
    tt = np.ascontiguousarray(t[:, 0], np.float64)
    by_col = np.ascontiguousarray(cols.T, np.float64)
    fl = np.ascontiguousarray(flags[:, 0].astype(np.uint8))
    under = load[:, 0] != 0
    if whole:
        return [(unchecked(AngleBlock, tt, *by_col, fl), under)]
    cuts = np.concatenate(([0], np.cumsum(ns[:, 0]))).tolist()
    out = []
    for i0, i1 in zip(cuts[:-1], cuts[1:], strict=True):
        s = slice(i0, i1)
        ang = unchecked(AngleBlock, tt[s], *by_col[:, s], fl[s])  # rows: contiguous views
        out.append((ang, under[s]))
    return out
