"""Parquet export: a folder of tables that pandas, Polars, MATLAB or R read directly.

``raw.parquet`` (one row per sample, in arrival order, with the block ordinal), ``angles.parquet``,
``events.parquet`` and ``session.json`` (profile, settings, rates). Written page by page with
:class:`pyarrow.parquet.ParquetWriter`, so memory stays flat for long sessions.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from posture.records import ANGLE_COLUMNS, ImuBlock
from spinewatch.sessions.reader import SessionFile
from spinewatch.sessions.store import SessionError

RAW_SCHEMA = pa.schema(
    [("time_s", pa.float64()), ("sensor", pa.dictionary(pa.int8(), pa.string()))]
    + [(f"{q}_{ax}", pa.float64()) for q in ("acc", "gyr", "mag") for ax in "xyz"]
    + [("seq", pa.int64()), ("block", pa.int64())]
)
ANGLE_SCHEMA = pa.schema(
    [("time_s", pa.float64())]
    + [(c if c == "rotation_confidence" else f"{c}_deg", pa.float64()) for c in ANGLE_COLUMNS]
    + [("flags", pa.uint8()), ("under_load", pa.bool_())]
)


def _raw_batch(items: list[tuple[int, ImuBlock]]) -> pa.RecordBatch:
    n = np.array([len(b) for _, b in items])
    t = np.concatenate([b.t for _, b in items])
    nan3 = [np.full((len(b), 3), np.nan) for _, b in items]
    cols: dict[str, pa.Array] = {"time_s": pa.array(t)}
    roles = [b.sensor for _, b in items]
    names = sorted(set(roles))
    codes = np.repeat(np.array([names.index(r) for r in roles], dtype=np.int8), n)
    cols["sensor"] = pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(names))
    for q in ("acc", "gyr", "mag"):
        parts = [
            getattr(b, q) if getattr(b, q) is not None else z
            for (_, b), z in zip(items, nan3, strict=True)
        ]
        m = np.concatenate(parts)
        for i, ax in enumerate("xyz"):
            cols[f"{q}_{ax}"] = pa.array(m[:, i], mask=np.isnan(m[:, i]) if q == "mag" else None)
    seq = np.concatenate([b.seq if b.seq is not None else np.full(len(b), -1) for _, b in items])
    cols["seq"] = pa.array(seq, mask=seq < 0)
    cols["block"] = pa.array(np.repeat(np.array([k for k, _ in items], dtype=np.int64), n))
    return pa.RecordBatch.from_pydict(cols, schema=RAW_SCHEMA)


def export_parquet(sf: SessionFile, folder: str | os.PathLike[str], page: int = 2000) -> list[str]:
    """Write the folder; returns the file names written."""
    from spinewatch.sessions.exports import event_rows, write_session_json

    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise SessionError(f"{out} is a file; Parquet export writes a folder, give a folder path")
    out.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(out / "raw.parquet", RAW_SCHEMA) as w:
        items: list[tuple[int, ImuBlock]] = []
        for k, b in sf.iter_blocks():
            if isinstance(b, ImuBlock) and len(b):
                items.append((k, b))
            if len(items) >= page:
                w.write_batch(_raw_batch(items))
                items = []
        if items:
            w.write_batch(_raw_batch(items))
    with pq.ParquetWriter(out / "angles.parquet", ANGLE_SCHEMA) as w:
        for ang, load in sf.iter_angles():
            cols = [ang.t, *(getattr(ang, c) for c in ANGLE_COLUMNS), ang.flags, load]
            w.write_batch(
                pa.RecordBatch.from_arrays([pa.array(c) for c in cols], schema=ANGLE_SCHEMA)
            )
    rows = event_rows(sf)
    keys = sorted({k for r in rows for k in r}, key=lambda k: (k != "kind", k))
    events = (
        pa.table({k: [r.get(k) for r in rows] for k in keys})
        if rows
        else pa.table({"kind": pa.array([], pa.string())})
    )
    pq.write_table(events, out / "events.parquet")
    write_session_json(sf, out / "session.json")
    return ["raw.parquet", "angles.parquet", "events.parquet", "session.json"]
