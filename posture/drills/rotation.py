"""Rotation family: the Pallof press (anti-rotation) and the turn with the hips.

Pallof press: standing side-on to a cable, press the handle out and back. Presses are counted
from the small backward lean that balances the arms going out (an assumption checked only on
the simulator so far); during every press the lumbar spine must not rotate or side-bend out of
the neutral band. Turn with the hips: turning a load from one side to the other, the trunk's
turn should come from the hips (pelvis heading), not the lumbar spine; the rotation share is
given per turn and a turn where the lumbar spine did most of it is a fault.
"""

from __future__ import annotations

import numpy as np

from posture.drills.analyser import RepDrill
from posture.drills.base import DrillFrame, DrillSpec, NeutralBand
from posture.drills.cues import CORE_CUES, HINGE_CUES

F64 = np.ndarray

SPECS = (
    DrillSpec(
        "pallof-press",
        "Pallof press",
        "rotation",
        3,
        "reps",
        "Stand tall side-on to a band or cable, handle at the chest. Press it straight out, "
        "hold two seconds, bring it back; the chest stays square, nothing turns.",
        ("rotation", "lateral_flexion"),
        CORE_CUES,
        2,
        8,
        pass_rule="2 × 8 presses per side with no twist",
        regression="half-kneeling Pallof press",
        progression="turn-with-hips",
        params={
            "drive_sign": -1.0,
            "start_deg": 1.2,
            "on_deg": 2.2,
            "top_s": 0.5,
            "min_s": 0.5,
            "hip_share": 0.0,
        },
    ),
    DrillSpec(
        "turn-with-hips",
        "Turn with the hips",
        "rotation",
        4,
        "reps",
        "Hold a light plate at the chest and turn it to one side and back, then the other, "
        "pivoting on the feet: the hips turn, the low back stays quiet.",
        ("flexion", "lateral_flexion"),
        HINGE_CUES,
        2,
        6,
        pass_rule="2 × 6 turns, each with at least half of the turn from the hips",
        regression="pallof-press",
        progression="deadlift",
        params={
            "start_deg": 8.0,
            "on_deg": 20.0,
            "top_s": 0.5,
            "min_rotation_share": 0.5,
            "hip_share": 0.0,
        },
    ),
)


class TurnDrill(RepDrill):
    """Reps on the trunk's turn away from where it faced at the start of the drill."""

    def __init__(self, spec: DrillSpec, band: NeutralBand):
        super().__init__(spec, band, self._turn)
        self._ref: float | None = None

    def _turn(self, f: DrillFrame) -> F64:
        trunk = f.pelvis_heading + f.rotation
        if self._ref is None:
            ok = np.flatnonzero(np.isfinite(trunk))
            if not ok.size:
                return np.full(len(f), np.nan)
            self._ref = float(trunk[ok[0]])
        return np.abs(trunk - self._ref)


def analyser(spec: DrillSpec, band: NeutralBand) -> RepDrill:
    if spec.name == "turn-with-hips":
        return TurnDrill(spec, band)
    return RepDrill(spec, band)
