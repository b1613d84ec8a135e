"""Compact sessions (schema 4): lossless packing, and old (schema 3) files read and export alike."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from firmware_bridge.profiles.spinewatch import G
from posture.records import ANGLE_COLUMNS, AngleBlock, ImuBlock, OrientationBlock
from sim.source import as_counts
from spinewatch.sessions import SessionFile, codec
from spinewatch.sessions.batches import (
    pack_angle_batch,
    pack_raw_batch,
    unpack_angle_batch,
    unpack_raw_batch,
)
from spinewatch.sessions.exports import export
from spinewatch.sessions.store import RAW_COLUMNS, connect, pack_block
from spinewatch.sessions.writer import SessionWriter

DATA = Path(__file__).parent / "data"
# Made by the schema-3 writer (commit b32ea8f): 4 s simulated lifting, a set and a note.
# The digest of every block and angle array as that code read them back.
SCHEMA3_DIGEST = "f1484dc8d6d22a1ae4ae26d92a6720197c8ab3839323083f25ddb02ef235d59d"
FORMATS = {"csv": "raw.csv", "angles": "angles.csv", "events": "events.csv", "sto": "o.sto"}


def bits(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a).tobytes()


def roundtrip(a: np.ndarray) -> tuple[np.ndarray, int]:
    sec, _ = codec.encode(a)
    buf = codec.decompress(codec.compress([sec]))
    out, pos = codec.decode(buf, 0)
    assert pos == len(buf)
    return out, sec[0]


@pytest.mark.parametrize(
    ("values", "expect"),
    [
        (np.arange(-5, 60).reshape(-1, 1) * (16 * G / 32768.0), codec.COUNTS),
        (np.random.default_rng(1).normal(size=(50, 3)).astype(np.float32) + 0.0, codec.F32),
        (np.random.default_rng(2).normal(size=(50, 4)), codec.F64),
        (np.array([[np.nan, -0.0, np.inf, 5e-324, -1.0]]).T, codec.F64),
        (np.zeros((0, 3)), codec.F32),
    ],
)
def test_float_codecs_are_bit_exact(values: np.ndarray, expect: int) -> None:
    out, tag = roundtrip(values)
    assert tag == expect
    assert out.dtype == np.float64 and out.shape == values.shape
    assert bits(out) == bits(values.astype(np.float64))


def test_counts_need_exact_products_and_int16_range() -> None:
    s = np.deg2rad(2000) / 32768.0
    k = np.array([[-32768.0], [0.0], [32767.0]])
    assert roundtrip(k * s)[1] == codec.COUNTS
    assert roundtrip(np.array([[1e6]]))[1] != codec.COUNTS  # out of int16 for every scale
    assert roundtrip(k * s + 1e-12)[1] == codec.F64  # not a product of counts
    assert roundtrip(np.array([[-0.0]]))[1] != codec.COUNTS  # -0.0 is not 0 × scale


def test_integers_and_flags() -> None:
    seq = np.array([2**40, 2**40 + 1, 2**40 + 3, -(2**62)], np.int64)
    out, _ = roundtrip(seq)
    assert bits(out[:, 0]) == bits(seq)
    flags = np.array([0, 255, 3], np.uint8)
    assert bits(roundtrip(flags)[0][:, 0]) == bits(flags)


def test_corrupt_batches_are_reported() -> None:
    with pytest.raises(codec.CodecError):
        codec.decompress(b"not zlib")
    sec, _ = codec.encode(np.arange(10.0))
    with pytest.raises(codec.CodecError):
        codec.decode(memoryview(sec[:-3]), 0)


def _imu(role: str, t0: float, n: int, seed: int, mag: bool = False) -> ImuBlock:
    r = np.random.default_rng(seed)
    b = ImuBlock(
        role,
        t0 + np.arange(n) / 200.0,
        r.normal(0, 3, (n, 3)),
        r.normal(0, 1, (n, 3)),
        r.normal(0, 40, (n, 3)) if mag else None,
        np.arange(n, dtype=np.int64) + seed * 1000,
    )
    return as_counts(b)


def test_raw_batch_gives_back_the_blocks() -> None:
    items = [(0, _imu("lumbar", 1.0, 4, 1)), (2, _imu("lumbar", 1.02, 0, 2)),
             (5, _imu("lumbar", 1.02, 5, 3))]  # fmt: skip
    hints: dict = {}
    row = pack_raw_batch(items, hints)
    assert row[:6] == ("lumbar", "imu", 0, 5, 3, 9)
    assert hints[("lumbar", "acc")] == [16 * G / 32768.0] * 3
    back = unpack_raw_batch("lumbar", row[-1])
    assert [k for k, _ in back] == [0, 2, 5]
    for (_, a), (_, b) in zip(items, back, strict=True):
        assert isinstance(b, ImuBlock) and b.mag is None and len(a) == len(b)
        for f in ("t", "acc", "gyr", "seq"):
            assert bits(getattr(a, f)) == bits(getattr(b, f))
    q = np.random.default_rng(4).normal(size=(6, 4))
    ob = OrientationBlock("thoracic", np.arange(6) / 60.0, q / np.linalg.norm(q, axis=1)[:, None])
    (_, back_q), = unpack_raw_batch("thoracic", pack_raw_batch([(7, ob)], {})[-1])  # fmt: skip
    assert isinstance(back_q, OrientationBlock) and bits(back_q.quat) == bits(ob.quat)


def _angles(t0: float, n: int, seed: int) -> tuple[AngleBlock, np.ndarray]:
    r = np.random.default_rng(seed)
    cols = {c: r.normal(0, 20, n) for c in ANGLE_COLUMNS}
    cols["rotation"][::3] = np.nan
    a = AngleBlock(t=t0 + np.arange(n) / 200.0, flags=r.integers(0, 8, n, np.uint8), **cols)
    return a, r.random(n) > 0.5


def test_angle_batch_gives_back_the_updates() -> None:
    items = [_angles(0.0, 4, 1), _angles(0.02, 3, 2)]
    back = unpack_angle_batch(pack_angle_batch(items)[-1])
    for (a, u), (b, v) in zip(items, back, strict=True):
        for f in a.__dataclass_fields__:
            assert bits(getattr(a, f)) == bits(getattr(b, f))
        assert bits(u) == bits(v)


def _repack(data: bytes, start: int, k: int, section: bytes) -> bytes:
    """A packed batch with its ``k``-th section (after ``start`` header bytes) replaced."""
    buf = codec.decompress(data)
    secs, pos = [bytes(buf[:start])], start
    while pos < len(buf):
        _, nxt = codec.decode(buf, pos)
        secs.append(bytes(buf[pos:nxt]))
        pos = nxt
    secs[k] = section
    return codec.compress(secs)


def test_batches_that_do_not_fit_together_are_reported() -> None:
    """A damaged batch is refused as a whole (checked once per batch, not per block)."""
    raw = pack_raw_batch([(0, _imu("lumbar", 1.0, 4, 1)), (1, _imu("lumbar", 1.02, 5, 2))], {})
    enc = [codec.encode(np.asarray(a))[0] for a in ([4, 6], [4.0, 5.0], [0], np.zeros((9, 2)))]
    # sections: flags, ordinals, block lengths, t, acc, gyr, seq
    for k, sec, what in ((2, enc[0], "add up"), (2, enc[1], "not integers"),
                         (1, enc[2], "ordinals"), (4, enc[3], "wrong width")):  # fmt: skip
        with pytest.raises(codec.CodecError, match=what):
            unpack_raw_batch("lumbar", _repack(raw[-1], 1, k, sec))
    with pytest.raises(codec.CodecError, match="different lengths"):
        unpack_raw_batch("lumbar", _repack(raw[-1], 1, 5, codec.encode(np.zeros((8, 3)))[0]))
    ang = pack_angle_batch([_angles(0.0, 4, 1), _angles(0.02, 3, 2)])[-1]
    # sections: (no header), block lengths, t, angle columns, flags, under load
    for k, sec, what in ((1, codec.encode(np.array([4, 4]))[0], "add up"),
                         (3, codec.encode(np.zeros((7, 6)), counts=False)[0], "wrong width"),
                         (5, codec.encode(np.zeros((7, 2), bool))[0], "wrong width")):  # fmt: skip
        with pytest.raises(codec.CodecError, match=what):
            unpack_angle_batch(_repack(ang, 0, k, sec))


def content_digest(sf: SessionFile) -> str:
    """Every block (ordinal, role, arrays) and angle update, in reading order."""
    h = hashlib.sha256()
    for k, b in sf.iter_blocks():
        h.update(f"{k} {b.sensor} {type(b).__name__} {len(b)}".encode())
        for name in ("t", "acc", "gyr", "mag", "seq", "quat"):
            a = getattr(b, name, None)
            h.update(b"-" if a is None else bits(a))
    for a, u in sf.iter_angles():
        for name in a.__dataclass_fields__:
            h.update(bits(getattr(a, name)))
        h.update(bits(u))
    return h.hexdigest()


def _exports(path: Path, out: Path) -> dict[str, bytes]:
    out.mkdir()
    got = {}
    with SessionFile(path) as sf:
        for fmt, name in FORMATS.items():
            export(sf, fmt, out / name)
            got[fmt] = (out / name).read_bytes()
        export(sf, "parquet", out / "pq")
    import pyarrow.parquet as pq

    for part in ("raw", "angles", "events"):
        t = pq.read_table(out / "pq" / f"{part}.parquet")
        # (without the key-value metadata: it holds the writer pid and creation time)
        got[part + ".parquet"] = repr((t.schema.remove_metadata(), t.to_pydict())).encode()
    return got


def _rewrite(src: SessionFile, path: Path) -> None:
    """The same blocks, angles, events and meta through the compact writer."""
    own = ("status", "writer", "schema_version", "created_unix", "closed_unix")
    w = SessionWriter(path, {k: v for k, v in src.meta.items() if k not in own})
    markers = src.markers()
    for k, b in src.iter_blocks():
        for m in [m for m in markers if m.before_ord == k]:
            w.marker(m.kind, m.t_s, m.text)
        assert w.block(b) == k
    for a, u in src.iter_angles():
        w.angles(a, u)
    w.alerts(src.alerts())
    w.reps(src.reps())
    w.close()


def test_schema3_file_reads_as_before_and_exports_like_a_compact_one(tmp_path: Path) -> None:
    old = tmp_path / "old" / "schema3.sqlite"
    old.parent.mkdir()
    shutil.copy(DATA / "schema3.sqlite", old)
    with SessionFile(old) as sf:
        assert content_digest(sf) == SCHEMA3_DIGEST
        assert sf.db.execute("SELECT COUNT(*) FROM raw_batches").fetchone()[0] == 0
        summary = sf.summary()
        new = tmp_path / "new" / "schema3.sqlite"
        _rewrite(sf, new)
    with SessionFile(new) as sf:
        assert content_digest(sf) == SCHEMA3_DIGEST
        assert sf.db.execute("SELECT COUNT(*) FROM raw_blocks").fetchone()[0] == 0
        s2 = sf.summary()
    assert (s2.samples, s2.dropped, s2.t0, s2.t1) == (
        summary.samples, summary.dropped, summary.t0, summary.t1)  # fmt: skip
    assert _exports(old, tmp_path / "x_old") == _exports(new, tmp_path / "x_new")


def _as_float64_rows(src: Path, dst: Path) -> None:
    """A copy of a compact session with its samples moved to the float64 one-row-per-block
    tables of schema 1-3 (what the writer stored before)."""
    shutil.copy(src, dst)
    with SessionFile(src) as sf:
        blocks = list(sf.iter_blocks())
        angles = list(sf.iter_angles())
    db = connect(dst)
    with db:
        # One transaction: the connection autocommits, and a commit (fsync) per row took ~30 s.
        db.execute("BEGIN")
        db.execute("DELETE FROM raw_batches")
        db.execute("DELETE FROM angle_batches")
        db.executemany(
            f"INSERT INTO raw_blocks ({RAW_COLUMNS}) VALUES ({', '.join('?' * 14)})",
            [pack_block(k, b) for k, b in blocks],
        )
        db.executemany(
            "INSERT INTO angle_blocks (n, t0, t1, data) VALUES (?, ?, ?, ?)",
            [(len(a), a.t[0], a.t[-1], _float64_angles(a, u)) for a, u in angles],
        )
    db.close()


def _float64_angles(a: AngleBlock, u: np.ndarray) -> bytes:
    cols = [a.t, *(getattr(a, c) for c in ANGLE_COLUMNS), a.flags, u]
    return np.column_stack(cols).astype("<f8").tobytes()


@pytest.mark.slow
def test_new_session_exports_equal_the_float64_path(
    recorded: dict[str, Any], tmp_path: Path
) -> None:
    path: Path = recorded["path"]
    with SessionFile(path) as sf:
        n_batches = sf.db.execute("SELECT COUNT(*) FROM raw_batches").fetchone()[0]
        n_blocks = sum(1 for _ in sf.iter_blocks())
        codecs = set()
        for (data,) in sf.db.execute("SELECT data FROM raw_batches WHERE kind = 'imu'"):
            buf = codec.decompress(data)
            pos = 1
            for _ in range(5):  # ords, ns, t, acc, gyr
                codecs.add(buf[pos])
                _, pos = codec.decode(buf, pos)
    assert 0 < n_batches < n_blocks / 4  # blocks share rows
    assert codec.COUNTS in codecs  # the simulated sensors send counts, stored as such
    legacy = tmp_path / "f64" / path.name
    legacy.parent.mkdir()
    _as_float64_rows(path, legacy)
    with SessionFile(legacy) as a, SessionFile(path) as b:
        assert content_digest(a) == content_digest(b)
    assert _exports(path, tmp_path / "x_new") == _exports(legacy, tmp_path / "x_f64")


def test_compact_session_is_small(recorded: dict[str, Any]) -> None:
    """Samples and angles well under 50 MB per hour of 2 × 200 Hz (float64 rows: ~175)."""
    path: Path = recorded["path"]
    with SessionFile(path) as sf:
        s = sf.summary()
        q = "SELECT (SELECT SUM(length(data)) FROM raw_batches), "
        raw, ang = sf.db.execute(q + "(SELECT SUM(length(data)) FROM angle_batches)").fetchone()
    per_h = 3600 / s.duration_s
    assert raw * per_h < 15e6  # int16 counts, about 1 byte per value after delta + zlib
    assert (raw + ang) * per_h < 40e6


def test_identical_columns_are_stored_once() -> None:
    a = np.random.default_rng(5).normal(size=(40, 4))
    a[:, 3] = a[:, 1]
    sec, _ = codec.encode(a, counts=False)
    alone, _ = codec.encode(a[:, :3], counts=False)
    assert len(sec) == len(alone) + 1
    out, _ = codec.decode(memoryview(sec), 0)
    assert bits(out) == bits(a)
