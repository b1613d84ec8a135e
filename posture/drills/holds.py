"""Core holds: plank (anti-extension) and side plank on each side (anti-lateral flexion).

A hold starts when the wearer is in position (pelvis face down for the plank; pelvis on its
side for a side plank, from the pelvis roll) and ends when they leave it. Judged: time in the
neutral band in the challenged plane, the deviation trace, and when form broke down (outside
the band for longer than ``breakdown_s``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from posture.drills.analyser import HoldDrill, PositionFn
from posture.drills.base import DrillFrame, DrillSpec, NeutralBand
from posture.drills.cues import CORE_CUES

_HOLD = {"min_hold_s": 3.0, "leave_s": 0.5, "breakdown_s": 1.0}

SPECS = (
    DrillSpec(
        "plank",
        "Plank",
        "holds",
        3,
        "hold",
        "Forearms under the shoulders, body one straight line from head to heels; brace and "
        "squeeze the glutes so the hips neither sag nor pike.",
        ("flexion",),
        CORE_CUES,
        3,
        0,
        30.0,
        pass_rule="3 holds of 30 s, ≥ 90 % of each in the neutral band, no breakdown",
        regression="plank from the knees",
        progression="side-plank-left",
        params=_HOLD,
    ),
    DrillSpec(
        "side-plank-left",
        "Side plank, left side down",
        "holds",
        3,
        "hold",
        "On the left forearm, feet stacked, hips lifted into one straight line; push the "
        "floor away and keep the hips from dropping.",
        ("lateral_flexion",),
        CORE_CUES,
        2,
        0,
        20.0,
        pass_rule="2 holds of 20 s, ≥ 90 % of each in the neutral band, no breakdown",
        regression="side plank from the knees",
        progression="side-plank-right",
        params=_HOLD,
    ),
    DrillSpec(
        "side-plank-right",
        "Side plank, right side down",
        "holds",
        3,
        "hold",
        "On the right forearm, feet stacked, hips lifted into one straight line; push the "
        "floor away and keep the hips from dropping.",
        ("lateral_flexion",),
        CORE_CUES,
        2,
        0,
        20.0,
        pass_rule="2 holds of 20 s, ≥ 90 % of each in the neutral band, no breakdown",
        regression="side plank from the knees",
        progression="pallof-press",
        params=_HOLD,
    ),
)


def _prone(f: DrillFrame) -> NDArray[np.bool_]:
    with np.errstate(invalid="ignore"):
        return (f.hip_angle > 55.0) & (f.hip_angle < 125.0)


def _on_side(sign: float) -> PositionFn:
    def inpos(f: DrillFrame) -> NDArray[np.bool_]:
        with np.errstate(invalid="ignore"):
            return sign * f.pelvis_roll > 55.0

    return inpos


def analyser(spec: DrillSpec, band: NeutralBand) -> HoldDrill:
    if spec.name == "plank":
        return HoldDrill(spec, band, _prone)
    # Lying on the left side the right hip faces up: pelvis roll +90.
    return HoldDrill(spec, band, _on_side(1.0 if spec.name.endswith("left") else -1.0))
