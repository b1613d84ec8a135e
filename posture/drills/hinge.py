"""Hinge family: dowel hinge (kneeling, standing), box squat, kettlebell swing, deadlift/RDL.

All are reps on the pelvis tilt (``hip_angle``); the lumbar spine must stay in the neutral
band in flexion (rounding at the bottom, over-extension at the top) and lateral flexion while
the hips travel. Score: clean reps; also the hip share and the largest lumbar deviation. The
swing is fast (about 1 s a rep): its top phase is short so the next rep is never merged.
"""

from __future__ import annotations

from posture.drills.analyser import RepDrill
from posture.drills.base import DrillSpec, NeutralBand
from posture.drills.cues import DOWEL_CUES, HINGE_CUES

_PLANES = ("flexion", "lateral_flexion")

SPECS = (
    DrillSpec(
        "dowel-hinge-kneeling",
        "Dowel hinge, kneeling",
        "hinge",
        1,
        "reps",
        "Kneel tall, a dowel along your back touching head, upper back and sacrum. Push the "
        "hips back and lean forward from the hips, keeping all three contacts; come back up.",
        _PLANES,
        DOWEL_CUES,
        3,
        8,
        pass_rule="3 × 8 reps, every rep inside the neutral band (flexion and side bend)",
        regression="cat-cow",
        progression="dowel-hinge-standing",
        params={"start_deg": 8.0, "on_deg": 18.0, "top_s": 0.8},
    ),
    DrillSpec(
        "dowel-hinge-standing",
        "Dowel hinge, standing",
        "hinge",
        1,
        "reps",
        "Stand, soft knees, the dowel on your back. Push the hips back until the trunk is "
        "about 45° forward, the dowel never leaving head, upper back and sacrum; stand up.",
        _PLANES,
        DOWEL_CUES,
        3,
        8,
        pass_rule="3 × 8 reps, every rep inside the neutral band (flexion and side bend)",
        regression="dowel-hinge-kneeling",
        progression="hip-extension",
        params={"start_deg": 10.0, "on_deg": 25.0, "top_s": 0.8},
    ),
    DrillSpec(
        "box-squat",
        "Box squat",
        "hinge",
        2,
        "reps",
        "Sit back to a box with a neutral spine, touch it, and stand up driving from heels and "
        "mid-foot; squeeze the glutes at the top without leaning back.",
        _PLANES,
        HINGE_CUES,
        3,
        8,
        pass_rule="3 × 8 reps with at most 1 fault per set",
        regression="glute-bridge",
        progression="kettlebell-swing",
        params={"start_deg": 10.0, "on_deg": 20.0, "top_s": 0.8, "max_faulty_per_set": 1},
    ),
    DrillSpec(
        "kettlebell-swing",
        "Kettlebell swing",
        "hinge",
        2,
        "reps",
        "Hike the bell back, hinge, then drive the hips forward: the bell floats to chest "
        "height. Stand tall at the top: glutes, not the low back.",
        _PLANES,
        HINGE_CUES,
        3,
        10,
        pass_rule="3 × 10 swings with at most 1 fault per set",
        regression="box-squat",
        progression="plank",
        params={
            "start_deg": 10.0,
            "on_deg": 22.0,
            "top_s": 0.35,
            "min_s": 0.15,
            "max_faulty_per_set": 1,
        },
    ),
    DrillSpec(
        "deadlift",
        "Deadlift / RDL",
        "hinge",
        4,
        "reps",
        "Bar over mid-foot, hinge to the bar with a neutral spine, brace, and push the floor "
        "away; lock out with the glutes. Enter the load of each set.",
        _PLANES,
        HINGE_CUES,
        3,
        5,
        pass_rule="3 × 5 reps with no fault; then add load",
        regression="kettlebell-swing",
        progression="add 2.5–5 kg per session while every set passes",
        params={"start_deg": 10.0, "on_deg": 25.0, "top_s": 0.8},
    ),
)


def analyser(spec: DrillSpec, band: NeutralBand) -> RepDrill:
    return RepDrill(spec, band)
