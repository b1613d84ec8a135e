"""Coaching with real sensors: one drill's sets from a live source, cues buzzed on the sensor.

A set ends when its prescription is met (the reps are done or the hold has ended) or after
``max_set_s``; a rest timer on the real clock follows. The sample source and its ``signal``
(buzz/LED) are the same as ``spinewatch monitor`` uses.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

from calibration.profile import CalibrationProfile
from posture.alignment import ClockMap
from posture.drills import NeutralBand, get_spec
from posture.engine import EngineSettings
from spinewatch.coach.runner import Coach, Say, SetOutcome, SimClock, header
from spinewatch.coach.store import ProgressStore


class WallClock(SimClock):
    """The real clock: ``sleep`` waits."""

    def __init__(self) -> None:
        super().__init__(datetime.now().astimezone())

    def sleep(self, dt: float) -> None:
        import time

        time.sleep(max(0.0, dt))
        self.s += max(0.0, dt)


def run_live(
    name: str,
    profile: CalibrationProfile,
    source: object,
    say: Say,
    store: ProgressStore | None,
    loads: list[float | None],
    rest_s: float = 60.0,
    max_set_s: float = 180.0,
    record: str | None = None,
) -> bool:
    """Run all sets of drill ``name`` live; True when the drill passed."""
    from spinewatch.sources import stop_on_signals

    spec = get_spec(name)
    band = NeutralBand.from_ranges(profile.ranges, profile.standing_flexion_deg)
    for line in header(name):
        say(line)
    outcomes: list[SetOutcome] = []

    async def main() -> None:
        stop = stop_on_signals()
        src = source
        await src.start()  # type: ignore[attr-defined]
        rates = src.rates_hz  # type: ignore[attr-defined]
        rate = float(rates.get("lumbar", 200.0))
        buzz_queue: list[str] = []
        coach = Coach(
            band,
            profile.spine_model,
            rate,
            say,
            WallClock(),
            buzz=buzz_queue.append,
            rest_s=rest_s,
            continuous=True,
            engine=EngineSettings(
                lumbar_rate_hz=rate,
                thoracic_rate_hz=float(rates.get("thoracic", 200.0)),
                clock=ClockMap(0.0, 0.0),  # the bridge delivers both sensors on host time
            ),
        )
        if record is not None:
            from spinewatch.coach.session_link import SessionLink

            coach.session = SessionLink(record, profile, dict(rates), source=src)
        loop = asyncio.get_running_loop()
        try:
            for k in range(1, spec.target_sets + 1):
                run = coach.begin_set(name, k, loads[k - 1] if k - 1 < len(loads) else None)
                t_start = loop.time()
                while not stop.is_set() and not run.done and loop.time() - t_start < max_set_s:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 0.02)
                    for block in src.read():  # type: ignore[attr-defined]
                        run.push(block)
                    while buzz_queue:
                        buzz_queue.pop(0)
                        await src.signal("lumbar", "alert")  # type: ignore[attr-defined]
                    if getattr(src, "finished", False):
                        break
                outcomes.append(run.end())
                if stop.is_set() or getattr(src, "finished", False):
                    break
                if k < spec.target_sets:
                    say(f"  rest {rest_s:.0f} s")
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), rest_s)
            coach.finish_attempt(name, outcomes, 0)
            if store is not None:
                store.append(coach.records)
        finally:
            if coach.session is not None:
                coach.session.close(complete=not stop.is_set())
            await src.stop()  # type: ignore[attr-defined]

    asyncio.run(main())
    from posture.drills.program import drill_passes

    ok = drill_passes([o.verdict for o in outcomes], name)
    say(f"  {'✓' if ok else '✗'} {spec.title} {'passed' if ok else 'not passed yet'}")
    return ok
