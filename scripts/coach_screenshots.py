"""Screenshots of the Coach and Progress pages, rendered offscreen.

Writes docs/screenshots/coach-*.png and progress.png. Run:

    uv run python scripts/coach_screenshots.py

Coach: simulated wearer 1 doing box squats with faults in the first attempt, caught at the
first cue (rounding at the bottom) and at the rest after the first set. Progress: four
simulated weeks of an improving wearer (the same as tests/spinewatch/coach/test_program.py).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from gui.app import grab, qt_app  # noqa: E402
from gui.coach import CoachWindow  # noqa: E402
from posture.drills import PROGRAM  # noqa: E402
from spinewatch.coach.gui_driver import CoachDriver  # noqa: E402
from spinewatch.coach.simulated import simulate_weeks  # noqa: E402
from spinewatch.coach.store import ProgressStore  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


def main() -> int:
    app = qt_app()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        store = ProgressStore(Path(tmp) / "progress.jsonl")
        simulate_weeks(store, seed=2, weeks=4)
        win = CoachWindow()
        win.show()
        drv = CoachDriver(
            win,
            seed=1,
            drills=["box-squat"],
            store=store,
            first_attempt_faults=0.4,
            passed=PROGRAM[:5],
        )
        drv.run_until("cue")
        drv.step(3)  # a moment later: the bottom of the rounded rep
        app.processEvents()
        shots = [grab(win, OUT / "coach-cue.png")]
        drv.run_until("rest")
        drv.step(3)
        app.processEvents()
        shots.append(grab(win, OUT / "coach-rest.png"))
        win.setCurrentIndex(1)
        idx = win.progress.drill.findData("kettlebell-swing")
        win.progress.drill.setCurrentIndex(max(idx, 0))
        app.processEvents()
        shots.append(grab(win, OUT / "progress.png"))
        win.close()
    for p in shots:
        print(f"screenshot saved to {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
