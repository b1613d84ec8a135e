"""Exports: raw CSV round-trips exactly, angles/events CSV, Parquet, OpenSim .sto."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from posture.anglescsv import read_angles_csv
from posture.rawcsv import read_raw_csv
from spinewatch.sessions import SessionFile
from spinewatch.sessions.exports import export, export_raw_csv


def test_raw_csv_export_reimports_identically(recorded: dict, tmp_path: Path) -> None:
    out = tmp_path / "raw.csv"
    with SessionFile(recorded["path"]) as sf:
        # Small windows: the streamed writer must cut and rejoin blocks without a seam.
        n = export_raw_csv(sf, out, window_s=7.3)
        back = read_raw_csv(out)
        assert n == sum(len(b) for b in back.values())
        for role in ("thoracic", "lumbar"):
            stored = sf.raw(role)
            np.testing.assert_array_equal(back[role].t, stored.t)
            np.testing.assert_array_equal(back[role].acc, stored.acc)
            np.testing.assert_array_equal(back[role].gyr, stored.gyr)
    assert out.read_text().startswith(
        "# spinewatch session lift (complete)\n"
        "# clock: host (both sensors on one time base; no clock fit needed)\ntime_s,sensor,"
    )


def test_angles_csv_export_matches_the_live_angles(recorded: dict, tmp_path: Path) -> None:
    out = tmp_path / "angles.csv"
    with SessionFile(recorded["path"]) as sf:
        export(sf, "angles", out)
        ang, _ = sf.angles()
    back = read_angles_csv(out)
    np.testing.assert_array_equal(back.t, ang.t)
    np.testing.assert_allclose(back.flexion, ang.flexion, atol=5e-5, equal_nan=True)
    np.testing.assert_array_equal(back.flags, ang.flags)


def test_events_csv_lists_alerts_reps_and_markers(recorded: dict, tmp_path: Path) -> None:
    import pyarrow.csv as pacsv

    out = tmp_path / "events.csv"
    with SessionFile(recorded["path"]) as sf:
        export(sf, "events", out)
        n_alerts, n_reps = len(sf.alerts()), len(sf.reps())
    t = pacsv.read_csv(out)
    kinds = t.column("kind").to_pylist()
    assert kinds.count("alert") == n_alerts and kinds.count("rep") == n_reps
    assert {"set_start", "set_end", "note"} <= set(kinds)
    start = np.array(t.column("start_s").to_pylist(), dtype=float)
    assert (np.diff(start) >= 0).all()


def test_parquet_folder(recorded: dict, tmp_path: Path) -> None:
    out = tmp_path / "pq"
    with SessionFile(recorded["path"]) as sf:
        export(sf, "parquet", out)
        lum = sf.raw("lumbar")
        ang, load = sf.angles()
        n_blocks = recorded["result"].blocks
    raw = pq.read_table(out / "raw.parquet")
    sensor = np.array(raw.column("sensor").to_pylist())
    rows = sensor == "lumbar"
    np.testing.assert_array_equal(raw.column("time_s").to_numpy()[rows], lum.t)
    np.testing.assert_array_equal(raw.column("gyr_z").to_numpy()[rows], lum.gyr[:, 2])
    np.testing.assert_array_equal(raw.column("seq").to_numpy()[rows], lum.seq)
    assert raw.column("block").to_numpy().max() == n_blocks - 1
    a = pq.read_table(out / "angles.parquet")
    np.testing.assert_array_equal(a.column("flexion_deg").to_numpy(), ang.flexion)
    np.testing.assert_array_equal(a.column("under_load").to_numpy(), load)
    ev = pq.read_table(out / "events.parquet")
    assert "alert" in ev.column("kind").to_pylist()
    assert sorted(f.name for f in out.iterdir()) == [
        "angles.parquet",
        "events.parquet",
        "raw.parquet",
    ]


def parse_sto(path: Path) -> tuple[dict[str, str], list[str], np.ndarray, dict[str, np.ndarray]]:
    """A strict reader of the OpenSim quaternion .sto layout (header, endheader, columns)."""
    lines = path.read_text().splitlines()
    end = lines.index("endheader")
    header = dict(line.split("=", 1) for line in lines[:end])
    cols = lines[end + 1].split("\t")
    body = [ln.split("\t") for ln in lines[end + 2 :]]
    assert all(len(r) == len(cols) for r in body)
    t = np.array([float(r[0]) for r in body])
    quats = {
        c: np.array([[float(v) for v in r[i].split(",")] for r in body])
        for i, c in enumerate(cols)
        if i
    }
    return header, cols, t, quats


def test_sto_has_the_opensense_layout_and_unit_quaternions(recorded: dict, tmp_path: Path) -> None:
    out = tmp_path / "orientations.sto"
    with SessionFile(recorded["path"]) as sf:
        export(sf, "sto", out)
        lum = sf.raw("lumbar")
    header, cols, t, quats = parse_sto(out)
    assert list(header) == ["DataRate", "DataType", "version", "OpenSimVersion"]
    assert float(header["DataRate"]) == pytest.approx(200.0)
    assert header["DataType"] == "Quaternion" and header["version"] == "3"
    assert cols == ["time", "thoracic_imu", "lumbar_imu"]
    # Own time stamps (never re-based), the lumbar sensor's, nearly all rows kept.
    assert np.isin(t, lum.t).all() and len(t) >= len(lum.t) - 2
    assert (np.diff(t) > 0).all()
    for q in quats.values():
        assert q.shape == (len(t), 4)
        np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-9)


def test_sto_reads_in_opensim(recorded: dict, tmp_path: Path) -> None:
    opensim = pytest.importorskip("opensim")
    out = tmp_path / "orientations.sto"
    with SessionFile(recorded["path"]) as sf:
        export(sf, "sto", out)
    table = opensim.TimeSeriesTableQuaternion(str(out))
    assert list(table.getColumnLabels()) == ["thoracic_imu", "lumbar_imu"]
    assert table.getNumRows() == len(parse_sto(out)[2])
