"""Mobility family: cat-cow, the exploration of the neutral spine (stage 1).

Reps are cat phases: lumbar flexion rising past the top of the neutral band. Nothing must
stay still here; the drill is judged on the range explored (flexion past the band in the cat,
extension past it in the cow), so the wearer feels both ends and the middle between them.
"""

from __future__ import annotations

from posture.drills.analyser import F64, RepDrill
from posture.drills.base import DrillFrame, DrillSpec, NeutralBand

SPECS = (
    DrillSpec(
        "cat-cow",
        "Cat-cow",
        "mobility",
        1,
        "reps",
        "On hands and knees, round the whole back up (cat), then let it sag and lift the "
        "chest (cow), slowly; feel the middle between the two: that is your neutral.",
        (),
        {},
        1,
        5,
        pass_rule="5 cycles, each 10° past the neutral band in flexion and 5° in extension",
        regression="",
        progression="dowel-hinge-kneeling",
        params={"start_deg": 3.0, "on_deg": 10.0, "top_s": 3.0, "hip_share": 0.0},
    ),
)


class CatCow(RepDrill):
    def __init__(self, spec: DrillSpec, band: NeutralBand):
        super().__init__(spec, band, self._cat)

    def _cat(self, f: DrillFrame) -> F64:
        return f.flexion - self.band.flexion[1]


def analyser(spec: DrillSpec, band: NeutralBand) -> RepDrill:
    return CatCow(spec, band)
