"""One session → the archive's tables (pyarrow), and the definitions the fleet report relies on.

Definitions (docs/archive.md):

* **time under load** — number of angle samples flagged under load × the session's sample
  period (the median step of the angle time stamps), s;
* **rounded rep** — a rep whose peak flexion exceeds the session's positive flexion alert limit;
* **sets** — the user's set markers (``set_start`` … ``set_end``; an unclosed set runs to the
  end of the session); in a session without set markers, runs of reps less than
  :data:`SET_GAP_S` apart. A rep belongs to the set its start falls in;
* **flexion drift within a set** — peak flexion of the set's last rep minus that of its first
  rep, deg (sets with two reps or more).

Every table carries ``session_id`` and ``analysis`` (0: the analysis recorded live, N: the
re-analysis that made archive version N). ``wearer`` and ``date`` are not stored in the files:
they are the Hive partition keys of the path (``wearer=…/date=…``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from posture.alerts import Alert
from posture.jsonsafe import json_safe
from posture.records import AngleBlock, ImuBlock, OrientationBlock
from posture.reps import RepMetrics
from posture.thresholds import Thresholds
from spinewatch.archive import SCHEMA_VERSION
from spinewatch.sessions.reader import Marker

SET_GAP_S = 20.0  # reps further apart than this start a new set (sessions without markers)
REP_FIELDS = tuple(RepMetrics.__dataclass_fields__)


def dumps(v: Any) -> str:
    """Canonical JSON (sorted keys; NaN as null) for the archive's hashed columns."""
    return json.dumps(json_safe(v), sort_keys=True, default=str)


@dataclass(frozen=True)
class SessionData:
    """What the archive keeps of one analysed session (angles in deg, times in s)."""

    session_id: str
    name: str
    content_hash: str
    status: str
    created_unix: float
    meta: dict[str, Any]  # the session's stored facts (profile, thresholds, rates...), no writer
    angles: AngleBlock
    under_load: NDArray[np.bool_]
    alerts: Sequence[Alert]
    reps: Sequence[RepMetrics]
    markers: Sequence[Marker]
    thresholds: Thresholds  # the limits this analysis used
    source_path: str = ""
    raw_samples: int = 0
    analysis: int = 0
    settings: dict[str, Any] = field(default_factory=dict)  # what a re-analysis changed


@dataclass(frozen=True)
class SetSpan:
    index: int
    source: str  # "marker" or "reps"
    start_s: float
    end_s: float


def sample_period(t: NDArray[np.float64]) -> float:
    """Median step of the time stamps, s (0 for fewer than two samples)."""
    return float(np.median(np.diff(t))) if len(t) > 1 else 0.0


def find_sets(markers: Sequence[Marker], reps: Sequence[RepMetrics], t_end: float) -> list[SetSpan]:
    """Sets from the markers, else from runs of reps (see the module docstring)."""
    spans: list[SetSpan] = []
    start: float | None = None
    for m in markers:
        if m.kind == "set_start" and m.t_s is not None and start is None:
            start = m.t_s
        elif m.kind == "set_end" and m.t_s is not None and start is not None:
            spans.append(SetSpan(len(spans), "marker", start, m.t_s))
            start = None
    if start is not None:
        spans.append(SetSpan(len(spans), "marker", start, max(t_end, start)))
    if spans:
        return spans
    for r in sorted(reps, key=lambda r: r.start_s):
        if spans and r.start_s - spans[-1].end_s <= SET_GAP_S:
            spans[-1] = SetSpan(spans[-1].index, "reps", spans[-1].start_s, r.end_s)
        else:
            spans.append(SetSpan(len(spans), "reps", r.start_s, r.end_s))
    return spans


def set_of(spans: Sequence[SetSpan], t: float) -> int | None:
    for s in spans:
        if s.start_s <= t <= s.end_s:
            return s.index
    return None


def _f64(x: Iterable[float | None]) -> pa.Array:
    a = np.array([np.nan if v is None else float(v) for v in x], dtype=float)
    return pa.array(a, pa.float64(), mask=np.isnan(a))


def _key(n: int, d: SessionData) -> dict[str, pa.Array]:
    return {
        "session_id": pa.array([d.session_id] * n, pa.string()),
        "analysis": pa.array(np.full(n, d.analysis, np.int32)),
    }


def _table(cols: dict[str, pa.Array], table: str) -> pa.Table:
    md = {b"spinewatch.archive_schema_version": str(SCHEMA_VERSION).encode(),
          b"spinewatch.table": table.encode()}  # fmt: skip
    return pa.table(cols).replace_schema_metadata(md)


def derive_tables(d: SessionData) -> dict[str, pa.Table]:
    """The derived tables of one session: sessions (1 row), sets, reps, alerts, seconds."""
    t = d.angles.t
    period = sample_period(t)
    loaded_s = float(np.count_nonzero(d.under_load)) * period
    t0 = float(t[0]) if len(t) else float("nan")
    t1 = float(t[-1]) if len(t) else float("nan")
    flex_limit = float(d.thresholds.limits["flexion"][1])
    spans = find_sets(d.markers, d.reps, t1 if len(t) else 0.0)
    reps = sorted(d.reps, key=lambda r: r.start_s)
    rep_set = [set_of(spans, r.start_s) for r in reps]
    rounded = [r.peak_flexion_deg > flex_limit for r in reps]

    out: dict[str, pa.Table] = {}
    rk = _key(len(reps), d)
    rcols: dict[str, pa.Array] = {
        **rk,
        "rep_index": pa.array(np.arange(len(reps), dtype=np.int32)),
        "set_index": pa.array(rep_set, pa.int32()),
    }
    for f in REP_FIELDS:
        rcols[f] = _f64(getattr(r, f) for r in reps)
    rcols["rounded"] = pa.array(rounded, pa.bool_())
    out["reps"] = _table(rcols, "reps")

    first, last, n_in, drift, hip = [], [], [], [], []
    for s in spans:
        mine = [r for r, k in zip(reps, rep_set, strict=True) if k == s.index]
        n_in.append(len(mine))
        first.append(mine[0].peak_flexion_deg if mine else None)
        last.append(mine[-1].peak_flexion_deg if mine else None)
        drift.append(
            mine[-1].peak_flexion_deg - mine[0].peak_flexion_deg if len(mine) > 1 else None
        )
        hs = [r.hip_share for r in mine if np.isfinite(r.hip_share)]
        hip.append(float(np.median(hs)) if hs else None)
    out["sets"] = _table(
        {
            **_key(len(spans), d),
            "set_index": pa.array([s.index for s in spans], pa.int32()),
            "source": pa.array([s.source for s in spans], pa.string()),
            "start_s": _f64(s.start_s for s in spans),
            "end_s": _f64(s.end_s for s in spans),
            "n_reps": pa.array(n_in, pa.int32()),
            "first_peak_flexion_deg": _f64(first),
            "last_peak_flexion_deg": _f64(last),
            "flexion_drift_deg": _f64(drift),
            "median_hip_share": _f64(hip),
        },
        "sets",
    )

    al = sorted(d.alerts, key=lambda a: (a.start_s, a.plane, a.side))
    out["alerts"] = _table(
        {
            **_key(len(al), d),
            "start_s": _f64(a.start_s for a in al),
            "alert_s": _f64(a.alert_s for a in al),
            "end_s": _f64(a.end_s for a in al),
            "plane": pa.array([a.plane for a in al], pa.string()),
            "side": pa.array([a.side for a in al], pa.string()),
            "peak_deg": _f64(a.peak_deg for a in al),
            "under_load": pa.array([bool(a.under_load) for a in al], pa.bool_()),
            "duration_s": _f64(a.end_s - a.start_s for a in al),
        },
        "alerts",
    )
    out["seconds"] = _table({**seconds_columns(d.angles, d.under_load, period, d)}, "seconds")

    thr = d.thresholds.to_json_dict()
    out["sessions"] = _table(
        {
            **_key(1, d),
            "name": pa.array([d.name], pa.string()),
            "content_hash": pa.array([d.content_hash], pa.string()),
            "status": pa.array([d.status], pa.string()),
            "created_unix": _f64([d.created_unix]),
            "t0_s": _f64([t0]),
            "t1_s": _f64([t1]),
            "duration_s": _f64([t1 - t0 if len(t) else 0.0]),
            "sample_period_s": _f64([period]),
            "loaded_s": _f64([loaded_s]),
            "angle_samples": pa.array([len(t)], pa.int64()),
            "raw_samples": pa.array([d.raw_samples], pa.int64()),
            "n_alerts": pa.array([len(al)], pa.int32()),
            "n_reps": pa.array([len(reps)], pa.int32()),
            "n_sets": pa.array([len(spans)], pa.int32()),
            "flexion_limit_deg": _f64([flex_limit]),
            "thresholds_json": pa.array([dumps(thr)], pa.string()),
            "settings_json": pa.array([dumps(d.settings)], pa.string()),
            "markers_json": pa.array(
                [dumps([[m.before_ord, m.t_s, m.kind, m.text] for m in d.markers])], pa.string()
            ),
            "meta_json": pa.array([dumps(d.meta)], pa.string()),
            "source_path": pa.array([d.source_path], pa.string()),
            "schema_version": pa.array([SCHEMA_VERSION], pa.int32()),
        },
        "sessions",
    )
    return out


SECOND_PLANES = ("flexion", "lateral_flexion", "rotation")


def seconds_columns(
    a: AngleBlock, load: NDArray[np.bool_], period: float, d: SessionData
) -> dict[str, pa.Array]:
    """Per whole second of stream time: samples, time under load, mean/min/max per plane."""
    sec = np.floor(a.t)
    edges = np.flatnonzero(np.diff(sec)) + 1 if len(sec) else np.zeros(0, np.intp)
    starts = np.concatenate(([0], edges)).astype(np.intp) if len(sec) else edges
    n = np.diff(np.append(starts, len(sec)))
    cols: dict[str, pa.Array] = {
        **_key(len(starts), d),
        "second_s": pa.array(sec[starts]),
        "samples": pa.array(n.astype(np.int32)),
        "loaded_s": pa.array(np.add.reduceat(load.astype(float), starts) * period)
        if len(starts)
        else pa.array([], pa.float64()),
    }
    for p in (*SECOND_PLANES, "hip_angle"):
        x = getattr(a, p)
        ok = np.isfinite(x)
        if len(starts):
            cnt = np.add.reduceat(ok.astype(float), starts)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.add.reduceat(np.where(ok, x, 0.0), starts) / cnt
            lo = np.minimum.reduceat(np.where(ok, x, np.inf), starts)
            hi = np.maximum.reduceat(np.where(ok, x, -np.inf), starts)
        else:
            mean = lo = hi = np.zeros(0)
        cols[f"{p}_mean_deg"] = pa.array(mean, mask=~np.isfinite(mean))
        if p != "hip_angle":
            cols[f"{p}_min_deg"] = pa.array(lo, mask=~np.isfinite(lo))
            cols[f"{p}_max_deg"] = pa.array(hi, mask=~np.isfinite(hi))
    return cols


# -- raw samples ---------------------------------------------------------------------------------
RAW_SCHEMA = pa.schema(
    [("session_id", pa.string()), ("block", pa.int64()), ("sensor", pa.string()),
     ("kind", pa.string()), ("time_s", pa.float64())]
    + [(f"{q}_{ax}", pa.float64()) for q in ("acc", "gyr", "mag") for ax in "xyz"]
    + [("seq", pa.int64())] + [(f"quat_{c}", pa.float64()) for c in "wxyz"]
)  # fmt: skip


def raw_table(
    session_id: str, blocks: Iterable[tuple[int, ImuBlock | OrientationBlock]]
) -> pa.Table:
    """Every stored sample with its block ordinal, so re-analysis replays the same blocks."""
    items = [(k, b) for k, b in blocks if len(b)]
    n = np.array([len(b) for _, b in items], dtype=np.intp)
    total = int(n.sum())
    is_q = np.array([isinstance(b, OrientationBlock) for _, b in items], dtype=bool)
    rows_q = np.repeat(is_q, n)

    def stack(name: str, width: int, kind: type) -> NDArray[np.float64]:
        # One concatenation per quantity; NaN rows where a block lacks it.
        out = np.full((total, width), np.nan)
        have = [isinstance(b, kind) and getattr(b, name, None) is not None for _, b in items]
        parts: list[Any] = [getattr(b, name) for (_, b), h in zip(items, have, strict=True) if h]
        sel = np.repeat(np.array(have, dtype=bool), n)
        if parts:
            out[sel] = np.concatenate(parts)
        return out

    seq = np.full(total, -1, np.int64)
    has_seq = np.repeat(np.array([getattr(b, "seq", None) is not None for _, b in items], bool), n)
    seqs = [s for _, b in items if (s := getattr(b, "seq", None)) is not None]
    if seqs:
        seq[has_seq] = np.concatenate(seqs)
    cols: dict[str, pa.Array] = {
        "session_id": pa.array(np.full(total, session_id, dtype=object), pa.string()),
        "block": pa.array(np.repeat(np.array([k for k, _ in items], np.int64), n)),
        "sensor": pa.array(
            np.repeat(np.array([b.sensor for _, b in items], object), n), pa.string()
        ),
        "kind": pa.array(np.where(rows_q, "quat", "imu").astype(object), pa.string()),
        "time_s": pa.array(np.concatenate([b.t for _, b in items]) if items else np.zeros(0)),
    }
    for name in ("acc", "gyr", "mag"):
        m = stack(name, 3, ImuBlock)
        for i, ax in enumerate("xyz"):
            cols[f"{name}_{ax}"] = pa.array(m[:, i], mask=np.isnan(m[:, i]))  # absent → null
    cols["seq"] = pa.array(seq, mask=seq < 0)
    q = stack("quat", 4, OrientationBlock)
    for i, c in enumerate("wxyz"):
        cols[f"quat_{c}"] = pa.array(q[:, i], mask=np.isnan(q[:, i]))
    return pa.table(cols, schema=RAW_SCHEMA)


def blocks_from_raw(t: pa.Table) -> list[tuple[int, ImuBlock | OrientationBlock]]:
    """Inverse of :func:`raw_table` (rows in block order): ``(ordinal, block)``."""
    if t.num_rows == 0:
        return []
    col = {name: t.column(name) for name in t.column_names}
    block = col["block"].to_numpy()
    cuts = np.flatnonzero(np.diff(block)) + 1
    starts = np.concatenate(([0], cuts))
    ends = np.append(cuts, len(block))

    def f(name: str) -> NDArray[np.float64]:
        return col[name].to_numpy(zero_copy_only=False)

    tt = f("time_s")
    acc = np.column_stack([f(f"acc_{a}") for a in "xyz"])
    gyr = np.column_stack([f(f"gyr_{a}") for a in "xyz"])
    mag = np.column_stack([f(f"mag_{a}") for a in "xyz"])
    quat = np.column_stack([f(f"quat_{c}") for c in "wxyz"])
    seq_valid = col["seq"].is_valid().to_numpy(zero_copy_only=False)
    seq = col["seq"].fill_null(-1).to_numpy()
    sensor = col["sensor"].to_pylist()
    kind = col["kind"].to_pylist()
    out: list[tuple[int, ImuBlock | OrientationBlock]] = []
    for a, b in zip(starts, ends, strict=True):
        s = slice(int(a), int(b))
        if kind[a] == "quat":
            out.append((int(block[a]), OrientationBlock(sensor[a], tt[s].copy(), quat[s].copy())))
            continue
        m = mag[s]
        out.append(
            (
                int(block[a]),
                ImuBlock(
                    sensor[a],
                    tt[s].copy(),
                    acc[s].copy(),
                    gyr[s].copy(),
                    None if np.isnan(m).all() else m.copy(),
                    seq[s].copy() if seq_valid[s].all() else None,
                ),
            )
        )
    return out
