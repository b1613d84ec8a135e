"""Drives the window's Coach and Progress pages (``spinewatch train --gui``).

The programme runs as a generator that yields after each live block, so the window stays
responsive (a Qt timer calls :meth:`CoachDriver.step`) and a screenshot script can stop it at
any moment. With ``--simulate`` the simulated wearer does the drills on a simulated clock, as
in the terminal; the rest timer is shown counting down on that clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from posture.drills import PROGRAM, get_spec
from posture.drills.program import drill_passes
from spinewatch.coach.progress import trends
from spinewatch.coach.runner import Coach, SetOutcome, SimClock, interleave
from spinewatch.coach.store import ProgressStore, SetRecord


def progress_series(records: Sequence[SetRecord]) -> dict[str, Any]:
    """Trends in the plain form the Progress page takes."""
    out: dict[str, Any] = {}
    for t in trends(records):
        t0 = t.times[0]
        days = [(x - t0).total_seconds() / 86400.0 for x in t.times]
        weeks = []
        for label, mean in t.weeks:
            d = [
                dd
                for dd, x in zip(days, t.times, strict=True)
                if f"{x.isocalendar()[0]}-W{x.isocalendar()[1]:02d}" == label
            ]
            weeks.append((float(np.mean(d)), mean, label))
        slope = "" if math.isnan(t.slope_per_week) else f", trend {t.slope_per_week:+.1f}/week"
        text = (
            f"{len(t.scores)} sets over {len(t.weeks)} week(s): first week {t.first:.0f}, "
            f"last week {t.last:.0f}{slope}"
        )
        out[t.drill] = (days, list(t.scores), weeks, text)
    return out


class CoachDriver:
    """Feeds a ``gui.coach.CoachWindow`` from a simulated wearer following the programme."""

    def __init__(
        self,
        window: Any,
        seed: int = 0,
        drills: Sequence[str] | None = None,
        store: ProgressStore | None = None,
        rest_s: float = 60.0,
        first_attempt_faults: float | None = None,
        passed: Sequence[str] = (),
    ) -> None:
        self.window, self.seed, self.store, self.rest_s = window, seed, store, rest_s
        self.first_faults = first_attempt_faults
        self.passed = set(passed)  # drills shown as passed before this run
        self.drills = list(drills or PROGRAM)
        self.lines: list[str] = []
        self.status: dict[str, str] = {n: "locked" for n in PROGRAM}
        self.phase = ""
        self._gen = self._run()
        self.finished = False

    def step(self, n: int = 1) -> bool:
        """Advance ``n`` live blocks; False once the programme is over."""
        for _ in range(n):
            try:
                next(self._gen)
            except StopIteration:
                self.finished = True
                return False
        return True

    def run_until(self, phase: str, max_steps: int = 100_000) -> None:
        """Step until ``phase`` (e.g. ``"cue"``, ``"rest"``, ``"set-done"``) is reached."""
        for _ in range(max_steps):
            if not self.step() or self.phase == phase:
                return

    def _run(self) -> Iterator[None]:
        from sim.drills import simulate_drill
        from spinewatch.coach.simulated import RATE_HZ, simulated_wearer

        page = self.window.coach
        cfg, prof, band = simulated_wearer(self.seed)
        passed = (self.store.passed() if self.store else set()) | self.passed
        for n in PROGRAM:
            self.status[n] = "passed" if n in passed else "locked"
        clock = SimClock(datetime.now().astimezone())
        coach = Coach(band, prof.spine_model, RATE_HZ, self.lines.append, clock, simulated=True)
        rng = np.random.default_rng([self.seed, 98])
        self._refresh_progress(coach)
        for name in self.drills:
            spec = get_spec(name)
            self.status[name] = "next" if self.status[name] != "passed" else "passed"
            page.show_drill(name, band)
            page.show_programme(self.status)
            ok = False
            for attempt in range(2):
                p = float(rng.choice([0.0, 0.0, 0.0, 0.4])) if attempt == 0 else 0.0
                if attempt == 0 and self.first_faults is not None:
                    p = self.first_faults
                outcomes: list[SetOutcome] = []
                first = len(coach.records)
                for k in range(1, spec.target_sets + 1):
                    if spec.kind == "hold":
                        prob = 1.0 if rng.random() < p else 0.0
                        sim = simulate_drill(
                            name,
                            self.seed,
                            prob,
                            n=1,
                            hold_s=1.1 * spec.target_hold_s,
                            config=cfg,
                            take=10 * attempt + k,
                        )
                    else:
                        sim = simulate_drill(
                            name,
                            self.seed,
                            p,
                            n=spec.target_reps,
                            config=cfg,
                            take=10 * attempt + k,
                        )
                    load = 40.0 + 5.0 * (k - 1) if name == "deadlift" else None
                    run = coach.begin_set(name, k, load)
                    page.clear_cue()
                    self.phase = "set"
                    for blk in interleave(sim.result.raw):
                        up = run.push(blk)
                        f = run.last
                        if f is not None:
                            plane = page.plane.plane
                            page.show_live(
                                float(getattr(f, plane)[-1]),
                                run.count_text(),
                                (
                                    float(f.thoracic_inclination[-1]),
                                    float(f.hip_angle[-1]),
                                    float(f.hip_angle[-1]),
                                    float(f.lateral_flexion[-1]),
                                ),
                            )
                        if up.cues:
                            page.show_cue(up.cues[-1].text)
                            self.phase = "cue"
                        elif up.reps and all(r.clean for r in up.reps):
                            page.clear_cue()
                        yield
                        self.phase = "set"
                    out = run.end()
                    outcomes.append(out)
                    clock.sleep(float(sim.result.truth.t[-1] - sim.result.truth.t[0]))
                    page.add_set_result(f"set {k}: {out.verdict.reason}", out.verdict.passed)
                    self.phase = "set-done"
                    yield
                    if k < spec.target_sets:
                        left = self.rest_s
                        while left > 0:
                            page.show_rest(left)
                            self.phase = "rest"
                            yield
                            clock.sleep(5.0)
                            left -= 5.0
                ok = coach.finish_attempt(name, outcomes, first)
                ok = ok and drill_passes([o.verdict for o in outcomes], name)
                if ok:
                    break
                self.status[name] = "failed"
                page.show_programme(self.status)
            self.status[name] = "passed" if ok else "failed"
            page.show_programme(self.status)
            self._refresh_progress(coach)
            self.phase = "drill-done"
            yield
            if not ok:
                break
        if self.store is not None:
            self.store.append(coach.records)

    def _refresh_progress(self, coach: Coach) -> None:
        old = self.store.load() if self.store else []
        self.window.progress.set_series(progress_series([*old, *coach.records]))
