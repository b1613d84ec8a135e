"""Screenshots of the main window and each calibration-wizard step, rendered offscreen.

Writes docs/screenshots/*.png. Run:

    uv run python scripts/screenshots.py

The main window is the ``spinewatch gui`` screenshot run (simulated wearer, seed 7, stopped
0.7 s after the rounded-back rep under load raised its alert). The wizard steps are driven by
a simulated calibration on a hand-moved clock, so every picture shows live feedback.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

from gui.app import grab, qt_app  # noqa: E402
from gui.wizard import CalibrationWizard  # noqa: E402
from posture.records import ImuBlock  # noqa: E402
from sim.source import SimulatedSource  # noqa: E402
from sim.wearer import SimConfig  # noqa: E402
from spinewatch.cli import main as cli  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
MAIN_CMD = ["gui", "--simulate", "--seed", "7", "--seconds", "31.6", "--speed", "4"]


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def wiggle_upper_sensor(seconds: float = 3.0, rate: float = 200.0) -> SimpleNamespace:
    """Someone shaking the thoracic sensor while the lumbar one lies still."""
    t = 500.0 + np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(1)
    acc = np.tile([0.0, 9.81, 0.0], (t.size, 1)) + rng.normal(0, 0.02, (t.size, 3))
    still = rng.normal(0, 0.004, (t.size, 3))
    moving = still.copy()
    moving[:, 2] += 2.5 * np.sin(2 * np.pi * 2.0 * (t - t[0]))
    seq = np.arange(t.size)
    return SimpleNamespace(
        raw={
            "thoracic": ImuBlock("thoracic", t, acc, moving, seq=seq),
            "lumbar": ImuBlock("lumbar", t, acc, still, seq=seq),
        }
    )


def advance(wiz: CalibrationWizard, clock: Clock, seconds: float, until=None) -> None:
    end = clock.t + seconds
    while clock.t < end and not (until and until()):
        clock.t += 0.02
        wiz.poll()


def wizard_shots() -> list[Path]:
    qt_app()
    shots = []
    clock = Clock()
    pair_src = SimulatedSource(result=wiggle_upper_sensor(), clock=clock)
    asyncio.run(pair_src.start())
    wiz = CalibrationWizard(pair_src, "~/.config/spinewatch/profile.json")
    wiz.show()
    advance(wiz, clock, 0.9)
    shots.append(grab(wiz, OUT / "wizard-1-pair.png"))
    wiz.close()

    clock = Clock()
    src = SimulatedSource("calibration", None, SimConfig(seed=3), clock=clock)
    asyncio.run(src.start())
    wiz = CalibrationWizard(src, "~/.config/spinewatch/profile.json")
    wiz.show()
    advance(wiz, clock, 0.3)
    wiz.go("stand")
    advance(wiz, clock, 2.2)
    shots.append(grab(wiz, OUT / "wizard-2-stand.png"))
    advance(wiz, clock, 30.0, until=lambda: wiz.step == "catcow")
    # Mid-way: two cycles done, rounding into the third.
    advance(wiz, clock, 30.0, until=lambda: wiz.tracker is not None and wiz.tracker.cycles >= 2)
    advance(wiz, clock, 2.0)
    shots.append(grab(wiz, OUT / "wizard-3-catcow.png"))
    advance(wiz, clock, 30.0, until=lambda: wiz.step == "result")
    shots.append(grab(wiz, OUT / "wizard-4-result.png"))
    wiz.close()

    clock = Clock()
    src = SimulatedSource("standing", 20.0, SimConfig(seed=4), clock=clock)
    asyncio.run(src.start())
    wiz = CalibrationWizard(src, "~/.config/spinewatch/profile.json")
    wiz.show()
    wiz.go("stand")
    advance(wiz, clock, 16.0)
    wiz.compute()
    shots.append(grab(wiz, OUT / "wizard-4-retry.png"))
    wiz.close()
    return shots


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    main_png = OUT / "main-window.png"
    code = cli([*MAIN_CMD, "--screenshot", str(main_png)])
    if code:
        return code
    for p in wizard_shots():
        print(f"screenshot saved to {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
