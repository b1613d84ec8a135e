"""``spinewatch fleet``: the DuckDB figures equal a direct computation from the session files."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spinewatch.archive.dataset import archive_sessions
from spinewatch.archive.fleet import PLANE_SIDES, fleet_rows, open_archive, rate_column
from spinewatch.cli import main
from spinewatch.sessions import SessionFile


def direct(paths: list[Path]) -> dict[tuple[str, str], dict[str, Any]]:
    """The weekly figures computed straight from the session files, without the archive."""
    acc: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {
            "sessions": 0,
            "loaded_s": 0.0,
            "recorded_s": 0.0,
            "alerts": defaultdict(int),
            "hip": [],
            "rounded": [],
            "drift": [],
        }  # fmt: skip
    )
    for p in paths:
        with SessionFile(p) as sf:
            day = datetime.fromtimestamp(sf.meta["created_unix"], UTC).date()
            y, w, _ = day.isocalendar()
            a = acc[(sf.meta["wearer"], f"{y}-W{w:02d}")]
            ang, load = sf.angles()
            a["sessions"] += 1
            a["loaded_s"] += load.sum() * np.median(np.diff(ang.t))
            a["recorded_s"] += ang.t[-1] - ang.t[0]
            for al in sf.alerts():
                if al.under_load:
                    a["alerts"][(al.plane, al.side)] += 1
            limit = sf.thresholds().limits["flexion"][1]
            reps = sorted(sf.reps(), key=lambda r: r.start_s)
            a["hip"] += [r.hip_share for r in reps if np.isfinite(r.hip_share)]
            a["rounded"] += [r.peak_flexion_deg > limit for r in reps]
            marks = sf.markers()
            starts = [m.t_s for m in marks if m.kind == "set_start"]
            ends = [m.t_s for m in marks if m.kind == "set_end"]
            if starts:  # the user's sets
                groups = [
                    [r for r in reps if s <= r.start_s <= e]
                    for s, e in zip(starts, ends, strict=True)
                ]
            else:  # runs of reps at most 20 s apart
                groups = []
                for r in reps:
                    if groups and r.start_s - groups[-1][-1].end_s <= 20.0:
                        groups[-1].append(r)
                    else:
                        groups.append([r])
            a["drift"] += [
                g[-1].peak_flexion_deg - g[0].peak_flexion_deg for g in groups if len(g) > 1
            ]
    return acc


def test_fleet_equals_direct_computation(team: list[Path], tmp_path: Path) -> None:
    root = tmp_path / "arc"
    archive_sessions(team, str(root))
    want = direct(team)
    for native in (True, False):  # DuckDB's reader and the pyarrow-filesystem path
        rows = fleet_rows(open_archive(str(root), native=native))
        assert {(r["wearer"], r["week"]) for r in rows} == set(want)
        assert len(rows) == 5
        for r in rows:
            w = want[(r["wearer"], r["week"])]
            loaded_h = w["loaded_s"] / 3600
            assert r["sessions"] == w["sessions"]
            assert r["loaded_h"] == pytest.approx(loaded_h, rel=1e-12)
            assert r["recorded_h"] == pytest.approx(w["recorded_s"] / 3600, rel=1e-12)
            assert r["reps"] == len(w["rounded"])
            assert r["alerts"] == sum(w["alerts"].values())
            assert r["alerts_per_loaded_h"] == pytest.approx(sum(w["alerts"].values()) / loaded_h)
            for p, s in PLANE_SIDES:
                assert r[rate_column(p, s)] == pytest.approx(w["alerts"][(p, s)] / loaded_h)
            assert r["median_hip_share"] == pytest.approx(np.median(w["hip"]), rel=1e-12)
            assert r["rounded_share"] == pytest.approx(np.mean(w["rounded"]), rel=1e-12)
            if w["drift"]:
                assert r["flexion_drift_deg"] == pytest.approx(np.mean(w["drift"]), rel=1e-12)
                assert r["sets_with_drift"] == len(w["drift"])
            else:
                assert r["flexion_drift_deg"] is None
    # The figures are not all trivially zero: the test has something to compare.
    assert any(r["alerts"] for r in rows) and any(r["sets_with_drift"] for r in rows)
    assert len({r["rounded_share"] for r in rows}) > 1 or len({r["alerts"] for r in rows}) > 1


def test_fleet_outputs(
    team: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "arc"
    archive_sessions(team, str(root))
    html = tmp_path / "fleet.html"
    assert main(["fleet", "--archive", str(root), "--format", "json", "--html", str(html)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["wearer"], r["week"]) for r in rows][:2] == [
        ("ana", "2026-W39"),
        ("ana", "2026-W40"),
    ]
    page = html.read_text()
    assert (
        page.count("<svg") == 5
        and "ana" in page
        and "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )
    assert main(["fleet", "--archive", str(root), "--format", "csv"]) == 0
    back = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(back) == len(rows) and float(back[0]["loaded_h"]) == pytest.approx(
        rows[0]["loaded_h"]
    )
    assert main(["fleet", "--archive", str(root)]) == 0
    assert "alerts/h" in capsys.readouterr().out
    q = "SELECT wearer, count(*) AS n FROM sessions GROUP BY wearer ORDER BY wearer"
    assert main(["fleet", "--archive", str(root), "--sql", q, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"wearer": "ana", "n": 3},
        {"wearer": "ben", "n": 2},
        {"wearer": "cy", "n": 1},
    ]
    assert main(["fleet", "--archive", str(tmp_path / "none")]) == 2
    assert "no archive here" in capsys.readouterr().err
