"""Glute family: glute bridge and hip extension (45° bench).

Reps on the hip's extension; the common fault is lumbar hyperextension at the top (arching
the low back instead of extending the hips). The hip share here is the hips' part of the
total extension: hip extension / (hip extension + lumbar extension past the start posture).
"""

from __future__ import annotations

import numpy as np

from posture.drills.analyser import RepDrill
from posture.drills.base import DrillSpec, NeutralBand
from posture.drills.cues import GLUTE_CUES
from posture.drills.segment import RepWindow

SPECS = (
    DrillSpec(
        "hip-extension",
        "Hip extension (45° bench)",
        "glutes",
        2,
        "reps",
        "Hips on the pad, lower the trunk by hinging at the hips, then rise with the glutes "
        "until the body is one straight line; do not arch past it.",
        ("flexion",),
        GLUTE_CUES,
        3,
        10,
        pass_rule="3 × 10 reps, no over-extension at the top",
        regression="glute-bridge",
        progression="glute-bridge",
        # The body is at 45° at the top: the drive is the pelvis tilt past it.
        params={"drive_baseline": 45.0, "start_deg": 10.0, "on_deg": 25.0, "top_s": 0.8},
    ),
    DrillSpec(
        "glute-bridge",
        "Glute bridge",
        "glutes",
        2,
        "reps",
        "On your back, knees bent, feet flat. Push the floor away through the heels and lift "
        "the hips until knees, hips and shoulders line up; ribs stay down.",
        ("flexion",),
        GLUTE_CUES,
        3,
        10,
        pass_rule="3 × 10 reps, no over-extension at the top",
        regression="hip-extension",
        progression="box-squat",
        # Lying on the back the pelvis is at −90°; the drive is its tilt backwards past that.
        params={
            "drive_baseline": -90.0,
            "drive_sign": -1.0,
            "start_deg": 6.0,
            "on_deg": 15.0,
            "top_s": 0.6,
        },
    ),
)


class GluteDrill(RepDrill):
    def hip_share(self, w: RepWindow, bottom: int) -> float:
        f = w.frame
        hip = float(w.drive[bottom])
        lumbar = max(0.0, float(f.flexion[0] - np.nanmin(f.flexion[w.i_start : w.i_down + 1])))
        return hip / (hip + lumbar) if hip + lumbar > 1.0 else float("nan")


def analyser(spec: DrillSpec, band: NeutralBand) -> RepDrill:
    return GluteDrill(spec, band)
