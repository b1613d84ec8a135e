"""The programme and its pass criteria: which sets pass a drill, which drill comes next.

Stages: 1 neutral spine (cat-cow, dowel hinge kneeling then standing), 2 glutes (hip
extension, glute bridge, box squat, kettlebell swing), 3 core (plank, side plank each side,
Pallof press, turn with the hips), 4 the deadlift. A drill passes when its prescribed sets all
meet the drill's criterion (``DrillSpec.pass_rule``, checked by :func:`set_passes`); passing
unlocks the next drill.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from posture.drills import PROGRAM, get_spec
from posture.drills.analyser import Analyser, HoldDrill, RepDrill
from posture.drills.base import NeutralBand

STAGES = {1: "neutral spine", 2: "glutes", 3: "core", 4: "deadlift"}
HOLD_MIN_IN_BAND = 0.9  # share of each hold inside the neutral band
HOLD_TIME_TOLERANCE = 0.95  # a hold counts from 95 % of the target time


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str


def set_passes(name: str, a: Analyser, band: NeutralBand) -> Verdict:
    """Whether one set meets the drill's criterion, and why not."""
    spec = get_spec(name)
    if isinstance(a, HoldDrill):
        holds = a.holds
        if not holds:
            return Verdict(False, "no hold found: get into position and stay there")
        h = max(holds, key=lambda x: x.hold_s)
        if h.hold_s < HOLD_TIME_TOLERANCE * spec.target_hold_s:
            return Verdict(False, f"held {h.hold_s:.0f} s of {spec.target_hold_s:.0f} s")
        if h.faults:
            return Verdict(False, f"form broke down after {h.breakdown_s:.0f} s")
        share = h.time_in_band_s / h.hold_s if h.hold_s > 0 else 0.0
        if share < HOLD_MIN_IN_BAND:
            return Verdict(False, f"only {100 * share:.0f} % of the hold in the neutral band")
        return Verdict(True, f"held {h.hold_s:.0f} s, {100 * share:.0f} % in the neutral band")
    assert isinstance(a, RepDrill)
    reps = a.reps
    if len(reps) < spec.target_reps:
        return Verdict(False, f"{len(reps)} of {spec.target_reps} reps")
    if name == "cat-cow":
        reach = [r for r in reps if r.max_flexion_deg >= band.flexion[1] + 10.0]
        low = min(r.min_flexion_deg for r in reps)
        if len(reach) < spec.target_reps or low > band.flexion[0] - 5.0:
            return Verdict(False, "explore further: round fully in the cat, arch in the cow")
        return Verdict(True, f"{len(reps)} cycles through the full range")
    bad = [r for r in reps if r.faults]
    allowed = int(spec.params.get("max_faulty_per_set", 0))
    if len(bad) > allowed:
        kinds = sorted({f for r in bad for f in r.faults})
        return Verdict(False, f"{len(bad)} reps with {', '.join(kinds).replace('_', ' ')}")
    return Verdict(True, f"{len(reps)} reps, {len(reps) - len(bad)} clean")


def drill_passes(verdicts: Sequence[Verdict], name: str) -> bool:
    spec = get_spec(name)
    return len(verdicts) >= spec.target_sets and all(v.passed for v in verdicts)


def next_drill(passed: Collection[str]) -> str | None:
    """The first drill of the programme not passed yet (None: the programme is complete)."""
    for name in PROGRAM:
        if name not in passed:
            return name
    return None


def unlocked(passed: Collection[str]) -> list[str]:
    """Drills open to the wearer: every passed drill and the next one."""
    nxt = next_drill(passed)
    return [n for n in PROGRAM if n in passed or n == nxt]
