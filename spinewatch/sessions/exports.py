"""Exports of a session: raw CSV, angles CSV, events CSV, Parquet folder, OpenSim ``.sto``.

The Parquet folder holds only Parquet files — ``raw.parquet`` (one row per sample, in arrival
order, with the block ordinal), ``angles.parquet`` and ``events.parquet`` — that pyarrow, DuckDB,
Polars, pandas, MATLAB or R open directly; the session's profile, thresholds, sensors and
settings travel in each file's key-value metadata.

Every export streams the session window by window, so an 8-hour recording is exported
without holding it in memory. Times are the recording's own time stamps (never re-based).
See docs/formats.md for each format.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from numpy.typing import NDArray

from posture.anglescsv import write_angles_csv
from posture.fusion import FusionSettings, OrientationFilter
from posture.rawcsv import HOST_CLOCK_COMMENT, write_raw_csv
from posture.records import ANGLE_COLUMNS, ROLES, AngleBlock, ImuBlock, OrientationBlock
from spinewatch.fileio import dumps_json
from spinewatch.sessions.reader import SessionFile
from spinewatch.sessions.store import SessionError

FORMATS = ("csv", "angles", "events", "parquet", "sto")
PathLike = str | os.PathLike[str]

# A spreadsheet runs a cell starting with one of these as a formula (=HYPERLINK(...)).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(text: str) -> str:
    """A CSV text cell a spreadsheet shows as text: ``'`` before a formula start character."""
    return "'" + text if text.startswith(FORMULA_START) else text


def _one_line(text: str) -> str:
    """Text for a ``#`` comment line: control characters (newlines...) become spaces."""
    return "".join(c if c.isprintable() else " " for c in text)


def _raw(sf: SessionFile, role: str, b: ImuBlock | OrientationBlock) -> ImuBlock:
    if isinstance(b, OrientationBlock):
        raise SessionError(
            f"{sf.path}: the {role} sensor delivered orientations, not raw samples; "
            "export it with --format sto"
        )
    return b


def _imu_windows(sf: SessionFile, window_s: float) -> Iterator[dict[str, ImuBlock]]:
    """Raw samples per role, cut at common time edges ``window_s`` apart."""
    its = {r: sf.iter_blocks(r) for r in sf.roles()}
    bufs: dict[str, list[ImuBlock]] = {r: [] for r in its}
    last = dict.fromkeys(its, -np.inf)
    for r, it in its.items():
        for _, block in it:
            b = _raw(sf, r, block)
            if len(b):
                bufs[r].append(b)
                last[r] = float(b.t[-1])
                break
    starts = [bs[0].t[0] for bs in bufs.values() if bs]
    if not starts:
        return
    edge = float(min(starts))
    while any(bufs.values()):
        edge += window_s
        out = {}
        for r, it in its.items():
            while last[r] < edge:
                nxt = next(it, None)
                if nxt is None:
                    last[r] = np.inf
                    break
                b = _raw(sf, r, nxt[1])
                if len(b):
                    bufs[r].append(b)
                    last[r] = float(b.t[-1])
            if not bufs[r]:
                continue
            blk = ImuBlock.concat(bufs[r])
            i = int(np.searchsorted(blk.t, edge, side="left"))
            if i:
                out[r] = blk.take(slice(0, i))
            bufs[r] = [blk.take(slice(i, None))] if i < len(blk) else []
        if out:
            yield out


def export_raw_csv(sf: SessionFile, path: PathLike, window_s: float = 60.0) -> int:
    """The raw import format (docs/formats.md); returns the number of rows."""
    with_mag = sf.has_mag_everywhere()
    rows = 0
    comments = [f"spinewatch session {_one_line(sf.name)} ({sf.status.value})", HOST_CLOCK_COMMENT]
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for k, win in enumerate(_imu_windows(sf, window_s)):
            if not with_mag:
                win = {r: ImuBlock(r, b.t, b.acc, b.gyr) for r, b in win.items()}
            buf = io.StringIO()
            write_raw_csv(buf, win, comments if k == 0 else ())
            text = buf.getvalue()
            fh.write(text if k == 0 else text[text.index("\n") + 1 :])
            rows += sum(len(b) for b in win.values())
    if rows == 0:
        raise SessionError(f"{sf.path}: the session holds no raw samples to export")
    return rows


def export_angles_csv(sf: SessionFile, path: PathLike, chunk_rows: int = 200_000) -> int:
    """The live angles in the angles CSV format of ``spinewatch analyze``."""

    rows = 0
    first = True
    with (
        open(path, "w", encoding="utf-8", newline="\n") as fh,
        tempfile.TemporaryDirectory() as tmp,
    ):
        parts: list[AngleBlock] = []
        pending = 0

        def emit() -> None:
            nonlocal first, pending
            part = Path(tmp) / "part.csv"
            write_angles_csv(part, AngleBlock.concat(parts))
            text = part.read_text(encoding="utf-8")
            fh.write(text if first else text[text.index("\n") + 1 :])
            first, pending = False, 0
            parts.clear()

        for ang, _ in sf.iter_angles():
            parts.append(ang)
            pending += len(ang)
            rows += len(ang)
            if pending >= chunk_rows:
                emit()
        if parts or first:
            emit()
    return rows


EVENT_COLUMNS = (
    "kind", "start_s", "end_s", "alert_s", "plane", "side", "peak_deg", "under_load",
    "bottom_s", "peak_flexion_deg", "mean_flexion_deg", "peak_lateral_flexion_deg",
    "peak_rotation_deg", "peak_hip_angle_deg", "hip_share", "time_under_tension_s", "text",
)  # fmt: skip


def event_rows(sf: SessionFile) -> list[dict[str, object]]:
    """Alerts, reps, set markers and notes as one table (one row each, sorted by time)."""
    from dataclasses import asdict

    rows: list[dict[str, object]] = []
    rows += [{"kind": "alert", **asdict(a)} for a in sf.alerts()]
    rows += [{"kind": "rep", **asdict(r)} for r in sf.reps()]
    rows += [{"kind": m.kind, "start_s": m.t_s, "text": m.text} for m in sf.markers()]
    rows.sort(key=lambda d: _num(d.get("start_s"), np.inf))
    return rows


def _num(v: object, missing: float = np.nan) -> float:
    """A numeric event field as a float (``missing`` where it is absent)."""
    return float(v) if isinstance(v, int | float | np.number) else missing


def export_events_csv(sf: SessionFile, path: PathLike) -> int:
    rows = event_rows(sf)
    cols = {}
    for c in EVENT_COLUMNS:
        vals = [r.get(c) for r in rows]
        if c in ("kind", "plane", "side", "text"):
            cols[c] = pa.array(
                [None if v is None else formula_safe(str(v)) for v in vals], pa.string()
            )
        elif c == "under_load":
            cols[c] = pa.array(vals, pa.bool_())
        else:
            f = [_num(v) for v in vals]
            cols[c] = pa.array(f, pa.float64(), mask=np.isnan(np.array(f, dtype=float)))
    pacsv.write_csv(pa.table(cols), str(path), pacsv.WriteOptions(quoting_style="needed"))
    return len(rows)


def export(sf: SessionFile, fmt: str, path: PathLike) -> str:
    """Write ``fmt`` to ``path``; returns a one-line description of what was written."""
    if fmt == "csv":
        return f"{export_raw_csv(sf, path)} raw samples -> {path}"
    if fmt == "angles":
        return f"{export_angles_csv(sf, path)} angle samples -> {path}"
    if fmt == "events":
        return f"{export_events_csv(sf, path)} events -> {path}"
    if fmt == "parquet":
        files = export_parquet(sf, path)
        return f"{len(files)} Parquet files ({', '.join(files)}) -> {path}/"
    if fmt == "sto":
        return f"{export_sto(sf, path)} orientation rows -> {path}"
    raise SessionError(f"unknown export format '{fmt}'; use one of {', '.join(FORMATS)}")


# -- OpenSim orientations ----------------------------------------------------------------------
STO_NAMES = {"thoracic": "thoracic_imu", "lumbar": "lumbar_imu"}


def _quat_cells(q: np.ndarray) -> pa.Array:
    parts = [pc.cast(pa.array(q[:, i]), pa.string()) for i in range(4)]
    return pc.binary_join_element_wise(*parts, ",")


def export_sto(sf: SessionFile, path: PathLike, window_s: float = 60.0) -> int:
    """OpenSense orientation file: per-sensor VQF quaternions (sensor → earth, z up).

    Thoracic orientations are slerped onto the lumbar time stamps; rows where either sensor
    has no orientation (gaps over 100 ms, the edges) are left out.
    """
    rates = {r: float(v) for r, v in sf.meta.get("rates_hz", {}).items() if v}
    fusion = FusionSettings(use_mag=bool(sf.meta.get("use_mag", False)))
    filters: dict[str, OrientationFilter] = {}
    th = OrientationBlock("thoracic", np.zeros(0), np.zeros((0, 4)))
    lum_hold = OrientationBlock("lumbar", np.zeros(0), np.zeros((0, 4)))
    rate = rates.get("lumbar") or 0.0
    n_rows = 0
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(f"DataRate={rate:.6f}\nDataType=Quaternion\nversion=3\nOpenSimVersion=4.5\n")
        fh.write("endheader\n" + "\t".join(["time", *(STO_NAMES[r] for r in ROLES)]) + "\n")
        for win in _imu_windows(sf, window_s):
            fused = {}
            for r, b in win.items():
                if r not in filters:
                    filters[r] = OrientationFilter(rates.get(r) or b.nominal_rate(), fusion, r)
                fused[r] = filters[r].process(b)
            if "thoracic" in fused:
                th = OrientationBlock.concat([th.take(slice(-1, None)), fused["thoracic"]])
            if "lumbar" in fused:
                lum_hold = OrientationBlock.concat([lum_hold, fused["lumbar"]])
            n_rows += _write_sto_rows(fh, lum_hold, th, final=False)
            keep = lum_hold.t > (th.t[-1] if len(th) else -np.inf)
            lum_hold = lum_hold.take(keep)
        n_rows += _write_sto_rows(fh, lum_hold, th, final=True)
    if n_rows == 0:
        raise SessionError(f"{sf.path}: no time where both sensors have data; nothing to export")
    return n_rows


def _write_sto_rows(
    fh: io.TextIOBase, lum: OrientationBlock, th: OrientationBlock, final: bool
) -> int:
    from posture.alignment import interpolate_orientation

    if len(lum) == 0 or len(th) == 0:
        return 0
    upto = lum.t <= th.t[-1]
    lum = lum.take(upto) if not final else lum
    q_t, valid = interpolate_orientation(th.t, th.quat, lum.t)
    if not valid.any():
        return 0
    t = lum.t[valid]
    table = pa.table(
        {
            "time": pc.cast(pa.array(t), pa.string()),
            "thoracic": _quat_cells(q_t[valid]),
            "lumbar": _quat_cells(lum.quat[valid]),
        }
    )
    buf = io.BytesIO()
    opts = pacsv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none")
    pacsv.write_csv(table, buf, opts)
    fh.write(buf.getvalue().decode("utf-8"))
    return int(valid.sum())


# -- Parquet -----------------------------------------------------------------------------------
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


def _angle_batch(
    angs: list[AngleBlock], loads: list[NDArray[np.bool_]], schema: pa.Schema
) -> pa.RecordBatch:
    ang, load = AngleBlock.concat(angs), np.concatenate(loads)
    cols = [ang.t, *(getattr(ang, c) for c in ANGLE_COLUMNS), ang.flags, load]
    return pa.RecordBatch.from_arrays([pa.array(c) for c in cols], schema=schema)


PARQUET_SCHEMA_VERSION = 2  # 1: a folder with session.json beside the tables


def session_metadata(sf: SessionFile, table: str) -> dict[bytes, bytes]:
    """Parquet key-value metadata: the session's profile, thresholds, sensors and settings.

    Keys: ``spinewatch.schema_version`` (``"2"``), ``spinewatch.table`` and ``spinewatch.session``
    (JSON: name, status, profile, thresholds, sensors, settings, all of ``meta``).
    """
    meta = sf.meta
    prof = meta.get("profile") or {}
    doc = {
        "schema_version": PARQUET_SCHEMA_VERSION,
        "table": table,
        "name": sf.name,
        "status": sf.status.value,
        "created_unix": meta.get("created_unix"),
        "profile": meta.get("profile"),
        "thresholds": meta.get("thresholds"),
        "sensors": {
            "rates_hz": meta.get("rates_hz", {}),
            "ids": prof.get("sensor_ids", {}),
            "use_mag": meta.get("use_mag", False),
        },
        "load_mode": meta.get("load_mode"),
        "source": meta.get("source"),
        "meta": {k: v for k, v in meta.items() if k not in ("profile", "thresholds")},
    }
    return {
        b"spinewatch.schema_version": str(PARQUET_SCHEMA_VERSION).encode(),
        b"spinewatch.table": table.encode(),
        b"spinewatch.session": dumps_json(doc, indent=None).encode(),
    }


def _with_meta(schema: pa.Schema, kv: dict[bytes, bytes]) -> pa.Schema:
    return schema.with_metadata({**(schema.metadata or {}), **kv})


EVENT_SCHEMA = pa.schema(
    [
        (c, pa.string() if c in ("kind", "plane", "side", "text") else pa.float64())
        if c != "under_load"
        else (c, pa.bool_())
        for c in EVENT_COLUMNS
    ]
)


def events_table(sf: SessionFile) -> pa.Table:
    """The ``events`` rows with a fixed schema (:data:`EVENT_COLUMNS`), nulls where absent."""
    rows = event_rows(sf)
    cols: dict[str, pa.Array] = {}
    for f in EVENT_SCHEMA:
        vals = [r.get(f.name) for r in rows]
        if pa.types.is_floating(f.type):
            x = np.array([_num(v) for v in vals], dtype=float)
            cols[f.name] = pa.array(x, pa.float64(), mask=np.isnan(x))
        elif pa.types.is_boolean(f.type):
            cols[f.name] = pa.array(vals, pa.bool_())
        else:
            cols[f.name] = pa.array([None if v is None else str(v) for v in vals], pa.string())
    return pa.table(cols, schema=EVENT_SCHEMA)


def export_parquet(sf: SessionFile, folder: str | os.PathLike[str], page: int = 2000) -> list[str]:
    """Write ``folder/{raw,angles,events}.parquet``; returns the file names written.

    The folder holds Parquet files only, so every reader (pyarrow, DuckDB, Polars, pandas,
    Spark, R arrow) opens each table directly; the session's metadata travels in each file's
    key-value metadata (:func:`session_metadata`). Each file is written under a temporary
    name and renamed.
    """
    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise SessionError(f"{out} is a file; Parquet export writes a folder, give a folder path")
    out.mkdir(parents=True, exist_ok=True)
    written: list[str] = []

    def target(table: str) -> tuple[Path, Path]:
        final = out / f"{table}.parquet"
        return final, out / f".{table}.parquet.tmp"

    final, tmp = target("raw")
    with pq.ParquetWriter(tmp, _with_meta(RAW_SCHEMA, session_metadata(sf, "raw"))) as w:
        items: list[tuple[int, ImuBlock]] = []
        for k, b in sf.iter_blocks():
            if isinstance(b, ImuBlock) and len(b):
                items.append((k, b))
            if len(items) >= page:
                w.write_batch(_raw_batch(items))
                items = []
        if items:
            w.write_batch(_raw_batch(items))
    os.replace(tmp, final)
    written.append(final.name)
    final, tmp = target("angles")
    schema = _with_meta(ANGLE_SCHEMA, session_metadata(sf, "angles"))
    with pq.ParquetWriter(tmp, schema) as w:
        # Angle updates are a few samples each: gathered into pages, not one row group each.
        angs: list[AngleBlock] = []
        loads: list[NDArray[np.bool_]] = []
        for ang, load in sf.iter_angles():
            angs.append(ang)
            loads.append(load)
            if len(angs) >= page:
                w.write_batch(_angle_batch(angs, loads, schema))
                angs, loads = [], []
        if angs:
            w.write_batch(_angle_batch(angs, loads, schema))
    os.replace(tmp, final)
    written.append(final.name)
    final, tmp = target("events")
    ev = events_table(sf)
    pq.write_table(ev.replace_schema_metadata(session_metadata(sf, "events")), tmp)
    os.replace(tmp, final)
    written.append(final.name)
    return written
