"""The cue said (and buzzed) for each fault, shared by the drill families."""

from __future__ import annotations

from posture.drills.base import LUMBAR_TURN, OVER_EXTENSION, ROUNDING, SIDE_BEND, TWIST

DOWEL_CUES = {
    ROUNDING: "Keep the dowel on your back: chest proud, hinge from the hips",
    SIDE_BEND: "Stay square: don't lean to one side",
}
HINGE_CUES = {
    ROUNDING: "Chest proud, hinge from the hips: don't round the low back",
    OVER_EXTENSION: "Ribs down at the top: squeeze the glutes, don't lean back",
    SIDE_BEND: "Stay square: don't lean to one side",
    TWIST: "Square hips and shoulders: don't twist",
    LUMBAR_TURN: "Turn with the hips and feet, not the low back",
}
GLUTE_CUES = {
    ROUNDING: "Keep the spine long: hinge from the hips",
    OVER_EXTENSION: "Drive the hips up with the glutes, not by arching the low back",
    SIDE_BEND: "Keep the hips level",
    TWIST: "Keep the hips square",
}
CORE_CUES = {
    ROUNDING: "Hips down a little: straight line from head to heels",
    OVER_EXTENSION: "Hips sagging: squeeze the glutes and brace",
    SIDE_BEND: "Hips dropping: push the floor away and lift the hips",
    TWIST: "Resist the pull: keep the chest square",
}
