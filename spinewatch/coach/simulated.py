"""A simulated wearer who follows the programme: ``train --simulate`` and the weeks of
progress used to test the progress report.

The wearer is calibrated from a simulated cat-cow, then does each drill's prescribed sets
(simulated by :mod:`sim.drills`) through the live drill path. Some first attempts
have faults (drawn from the seed) and fail; the second attempt is clean, so a programme run
shows both a failed drill with its regression and the unlocking of the next one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np

from calibration.profile import CalibrationProfile
from posture.drills import PROGRAM, NeutralBand, get_spec
from posture.records import LUMBAR, ImuBlock
from sim.drills import simulate_drill
from sim.wearer import SimConfig, calibrated_profile
from spinewatch.coach.runner import Coach, Say, SetOutcome, SimClock, header, interleave
from spinewatch.coach.store import ProgressStore, SetRecord

RATE_HZ = 100.0
EPOCH_S = 1000.0  # sensor time of the programme's start


def simulated_wearer(seed: int) -> tuple[SimConfig, CalibrationProfile, NeutralBand]:
    """(sensor config, calibration profile, neutral band) of the simulated wearer."""
    cfg = SimConfig(seed=seed, rate_hz=RATE_HZ)
    prof = calibrated_profile(cfg)
    return cfg, prof, NeutralBand.from_ranges(prof.ranges, prof.standing_flexion_deg)


def _on_clock(raw: dict[str, ImuBlock], at_s: float) -> dict[str, ImuBlock]:
    """A simulated set moved onto the programme's clock (sets follow each other in time)."""
    shift = EPOCH_S + at_s - float(raw[LUMBAR].t[0])
    return {r: ImuBlock(b.sensor, b.t + shift, b.acc, b.gyr, b.mag, b.seq) for r, b in raw.items()}


def _attempt(coach: Coach, cfg: SimConfig, name: str, seed: int, p: float, take: int) -> bool:
    spec = get_spec(name)
    outcomes: list[SetOutcome] = []
    first = len(coach.records)
    rng = np.random.default_rng([seed, 99, take])
    for k in range(1, spec.target_sets + 1):
        if spec.kind == "hold":
            prob = 1.0 if rng.random() < p else 0.0  # one hold per set: it holds or breaks
            sim = simulate_drill(
                name, seed, prob, n=1, hold_s=1.1 * spec.target_hold_s, config=cfg, take=take + k
            )
        else:
            sim = simulate_drill(name, seed, p, n=spec.target_reps, config=cfg, take=take + k)
        load = 40.0 + 5.0 * (k - 1) if name == "deadlift" else None
        raw = _on_clock(sim.result.raw, coach.clock.s)
        outcomes.append(coach.run_set(name, interleave(raw), k, load))
        coach.clock.sleep(float(sim.result.truth.t[-1] - sim.result.truth.t[0]))
        if k < spec.target_sets:
            coach.rest()
    return coach.finish_attempt(name, outcomes, first)


def run_program(
    say: Say,
    seed: int = 0,
    drills: Sequence[str] | None = None,
    store: ProgressStore | None = None,
    start: datetime | None = None,
    rest_s: float = 60.0,
    record: str | None = None,
) -> bool:
    """Run the programme (or the given drills) with a simulated wearer; True if all passed.
    ``record``: also write a session file there (raw data, sets, verdicts as notes)."""
    say(f"Simulated wearer {seed}: calibrating from a simulated cat-cow …")
    cfg, prof, band = simulated_wearer(seed)
    lo, hi = band.flexion
    say(
        f"  neutral band: flexion {lo:+.0f}°..{hi:+.0f}°, "
        f"side bend ±{band.lateral_flexion[1]:.0f}°, "
        f"rotation ±{band.rotation[1]:.0f}°"
    )
    clock = SimClock(start or datetime.now().astimezone())
    coach = Coach(band, prof.spine_model, RATE_HZ, say, clock, rest_s=rest_s, simulated=True)
    if record is not None:
        from spinewatch.coach.session_link import SessionLink

        coach.session = SessionLink(record, prof, {"lumbar": RATE_HZ, "thoracic": RATE_HZ})
    rng = np.random.default_rng([seed, 98])
    todo = list(drills or PROGRAM)
    all_ok = True
    for name in todo:
        say("")
        for line in header(name):
            say(line)
        ok = False
        for attempt in range(2):
            p = float(rng.choice([0.0, 0.0, 0.0, 0.4])) if attempt == 0 else 0.0
            ok = _attempt(coach, cfg, name, seed, p, 10 * attempt)
            spec = get_spec(name)
            if ok:
                nxt = spec.progression
                say(f"  ✓ {spec.title} passed" + (f"; unlocked: {nxt}" if nxt else ""))
                break
            easier = (
                f" (if it keeps failing, go back to: {spec.regression})" if spec.regression else ""
            )
            say(f"  ✗ {spec.title} not passed yet{easier}; after a rest, once more")
            coach.rest()
        all_ok &= ok
        if not ok:
            say("  the programme stops here for today: repeat this drill next session")
            break
    if coach.session is not None:
        coach.session.close()
        say(f"Session recorded: {coach.session.path}")
    if store is not None:
        store.append(coach.records)
    took = timedelta(seconds=round(clock.s))
    say("")
    say(
        f"Programme {'complete' if all_ok else 'paused'}: {len(coach.records)} sets, "
        f"{took} on the simulated clock."
    )
    return all_ok


def simulate_weeks(
    store: ProgressStore,
    seed: int = 0,
    weeks: int = 4,
    drills: Sequence[str] = ("dowel-hinge-standing", "kettlebell-swing"),
    start: datetime | None = None,
    fault_start: float = 0.625,
    fault_end: float = 0.125,
) -> list[float]:
    """Weekly sessions of a wearer who improves: the share of faulty reps falls linearly from
    ``fault_start`` to ``fault_end``. Records go to ``store``; returns the weekly fault shares."""
    cfg, prof, band = simulated_wearer(seed)
    t0 = start or datetime(2026, 1, 5, 18, 0).astimezone()
    shares = list(np.linspace(fault_start, fault_end, weeks))
    records: list[SetRecord] = []
    for w, p in enumerate(shares):
        clock = SimClock(t0 + timedelta(days=7 * w))
        coach = Coach(band, prof.spine_model, RATE_HZ, lambda _s: None, clock, simulated=True)
        for name in drills:
            sim = simulate_drill(name, seed, float(p), n=8, config=cfg, take=100 + w)
            out = coach.run_set(name, interleave(sim.result.raw), 1)
            coach.records[-1] = replace(coach.records[-1], passed=out.verdict.passed)
            clock.sleep(600.0)
        records.extend(coach.records)
    store.append(records)
    return [float(x) for x in shares]
