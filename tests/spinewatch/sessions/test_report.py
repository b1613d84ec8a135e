"""The HTML report: self-contained, plots with limits and alerts, tables with the right rows."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from spinewatch.cli import main
from spinewatch.sessions import SessionFile
from spinewatch.sessions.report import find_sets


class Parsed(HTMLParser):
    """Counts of plot elements per plot and rows per table."""

    def __init__(self) -> None:
        super().__init__()
        self.plots: list[str] = []
        self.shapes: Counter[tuple[str, str]] = Counter()  # (series, class) → count
        self.rows: Counter[str] = Counter()
        self.table: str | None = None
        self.in_body = False
        self.attrs_seen: list[tuple[str, str | None]] = []
        self.tags: Counter[str] = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags[tag] += 1
        self.attrs_seen += attrs
        if tag == "svg":
            self.plots.append(a.get("data-series") or "")
        elif tag in ("rect", "line", "polyline") and self.plots:
            self.shapes[(self.plots[-1], a.get("class") or "")] += 1
        elif tag == "table":
            self.table = a.get("id")
        elif tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body and self.table:
            self.rows[self.table] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self.in_body = False
        elif tag == "table":
            self.table = None


def test_report_plots_and_tables(
    recorded: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    assert main(["report", str(recorded["path"]), "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    p = Parsed()
    p.feed(html)
    with SessionFile(recorded["path"]) as sf:
        alerts, reps = sf.alerts(), sf.reps()
        sets = find_sets(sf, reps, alerts)
    assert p.plots == ["flexion", "lateral_flexion", "rotation", "hip_angle"]
    for plane in ("flexion", "lateral_flexion", "rotation"):
        assert p.shapes[(plane, "limit")] == 2  # both sides' limits
        assert p.shapes[(plane, "alert")] == sum(a.plane == plane for a in alerts)
        assert p.shapes[(plane, "line")] >= 1
    assert p.shapes[("hip_angle", "hip")] >= 1 and p.shapes[("hip_angle", "limit")] == 0
    assert p.shapes[("flexion", "load")] >= 1  # time under load is shaded
    assert len(alerts) >= 1 and len(reps) >= 2
    assert p.rows["reps"] == len(reps)
    assert p.rows["alerts"] == len(alerts)
    assert p.rows["sets"] == len(sets) == 1  # the one manual set of the recording
    assert p.rows["calibration"] == 3
    assert p.rows["links"] == 2
    # Self-contained: no scripts, no links, no external images or fonts.
    assert p.tags["script"] == 0 and p.tags["link"] == 0 and p.tags["img"] == 0
    assert not any(k in ("src", "href") for k, _ in p.attrs_seen)
    assert "url(" not in html


@pytest.mark.slow
def test_sets_are_found_from_pauses_without_markers(tmp_path: Path, profile: Any) -> None:
    import asyncio

    from sim.source import SimulatedSource
    from sim.wearer import SimConfig
    from spinewatch.sessions.recorder import Recorder

    path = tmp_path / "s.sqlite"
    src = SimulatedSource("lifting-session", 180.0, SimConfig(seed=3), speed=0)
    # Reps need calibrated angles (without a profile they are in sensor axes): seed 3's, cached.
    prof = profile
    asyncio.run(Recorder(src, path, prof).run())
    with SessionFile(path) as sf:
        reps, alerts = sf.reps(), sf.alerts()
        sets = find_sets(sf, reps, alerts)
    assert len(sets) == 3 and all(s.source == "pause" for s in sets)
    assert sum(len(s.reps) for s in sets) == len(reps)
