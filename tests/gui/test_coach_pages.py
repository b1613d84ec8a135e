"""The Coach and Progress pages, driven by a simulated wearer (offscreen)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gui.coach import CoachWindow, challenged_plane
from posture.drills import PROGRAM, get_spec
from spinewatch.coach.gui_driver import CoachDriver, progress_series
from spinewatch.coach.store import SetRecord

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot


def test_coach_page_follows_a_set_with_faults(qtbot: QtBot) -> None:
    win = CoachWindow()
    qtbot.addWidget(win)
    drv = CoachDriver(win, seed=1, drills=["glute-bridge"], first_attempt_faults=0.5, rest_s=10)
    drv.run_until("cue")
    page = win.coach
    assert page.title.text().startswith("Glute bridge")
    assert page.cue.text().startswith("Drive the hips up")
    assert page.plane.state == "red" and page.plane.plane == "flexion"
    drv.run_until("rest")
    assert page.rest.text().startswith("rest 0:")
    assert page.sets.count() == 1 and "set 1" in page.sets.item(0).text()
    marks = [page.programme.item(i).text()[0] for i in range(page.programme.count())]
    assert len(marks) == len(PROGRAM) and marks[PROGRAM.index("glute-bridge")] == "▶"


def test_progress_page_plots_each_drill(qtbot: QtBot) -> None:
    recs = [
        SetRecord("plank", f"2026-01-{5 + 7 * w:02d}T18:00:00+00:00", 1, {"score": 50.0 + 10 * w})
        for w in range(3)
    ]
    series = progress_series(recs)
    assert series["plank"][1] == [50.0, 60.0, 70.0] and len(series["plank"][2]) == 3
    win = CoachWindow()
    qtbot.addWidget(win)
    win.progress.set_series(series)
    assert win.progress.drill.count() == 1
    assert "trend +10.0/week" in win.progress.summary.text()
    assert challenged_plane(get_spec("side-plank-left")) == "lateral_flexion"
