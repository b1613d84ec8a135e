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
from firmware_bridge.api import Block, SampleSource
from posture.drills import NeutralBand, get_spec
from posture.live import host_clock_settings
from posture.records import ImuBlock
from spinewatch.coach.runner import Coach, Say, SetOutcome, SimClock, header
from spinewatch.coach.store import CoachError, ProgressStore


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
    source: SampleSource,
    say: Say,
    store: ProgressStore | None,
    loads: list[float | None],
    rest_s: float = 60.0,
    max_set_s: float = 180.0,
    record: str | None = None,
) -> bool:
    """Run all sets of drill ``name`` live; True when the drill passed."""
    from spinewatch.sources import before_next_read, stop_on_signals

    spec = get_spec(name)
    band = NeutralBand.from_ranges(profile.ranges, profile.standing_flexion_deg)
    for line in header(name):
        say(line)
    outcomes: list[SetOutcome] = []

    async def main() -> None:
        stop = stop_on_signals()
        src = source
        await src.start()
        rates = src.rates_hz
        engine = host_clock_settings(rates)
        rate = engine.lumbar_rate_hz or 200.0  # the pelvis tracker needs a rate before data
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
            engine=engine,
        )
        if record is not None:
            from spinewatch.coach.session_link import SessionLink

            coach.session = SessionLink(record, profile, dict(rates), source=src)
        loop = asyncio.get_running_loop()
        try:
            for k in range(1, spec.target_sets + 1):
                run = coach.begin_set(name, k, loads[k - 1] if k - 1 < len(loads) else None)
                t_start = loop.time()
                blocks: list[Block] = []
                while not stop.is_set() and not run.done and loop.time() - t_start < max_set_s:
                    await before_next_read(stop, bool(blocks))
                    blocks = src.read()
                    for block in blocks:
                        if not isinstance(block, ImuBlock):
                            raise CoachError(
                                "coach mode needs raw IMU samples; switch the sensors' "
                                "on-board orientation output off"
                            )
                        run.push(block)
                    while buzz_queue:
                        buzz_queue.pop(0)
                        await src.signal("lumbar", "alert")
                    if src.finished:
                        break
                outcomes.append(run.end())
                if stop.is_set() or src.finished:
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
            await src.stop()

    asyncio.run(main())
    from posture.drills.program import drill_passes

    ok = drill_passes([o.verdict for o in outcomes], name)
    say(f"  {'✓' if ok else '✗'} {spec.title} {'passed' if ok else 'not passed yet'}")
    return ok
