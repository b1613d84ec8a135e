"""Coach-mode drills: the hip-hinge progression as first-class objects.

Each family module (:mod:`~posture.drills.mobility`, :mod:`~posture.drills.hinge`,
:mod:`~posture.drills.glutes`, :mod:`~posture.drills.holds`, :mod:`~posture.drills.rotation`)
exposes ``SPECS`` (frozen :class:`DrillSpec` values) and ``analyser(spec, band)``, which
returns a :class:`RepDrill` or :class:`HoldDrill` fed :class:`DrillFrame` blocks.
"""

from __future__ import annotations

from typing import Protocol

from posture.drills import glutes, hinge, holds, mobility, rotation
from posture.drills.analyser import Analyser, HoldDrill, RepDrill, summarise
from posture.drills.base import (
    FAULTS,
    Cue,
    DrillError,
    DrillFrame,
    DrillSpec,
    DrillUpdate,
    HoldResult,
    NeutralBand,
    RepResult,
)


class _Family(Protocol):
    """What each drill family module provides (modules satisfy protocols)."""

    @property
    def SPECS(self) -> tuple[DrillSpec, ...]: ...  # the modules' constant, read-only here

    def analyser(self, spec: DrillSpec, band: NeutralBand) -> Analyser: ...


_FAMILIES: tuple[_Family, ...] = (mobility, hinge, glutes, holds, rotation)
DRILLS: dict[str, DrillSpec] = {s.name: s for fam in _FAMILIES for s in fam.SPECS}
_BY_FAMILY = {s.name: fam for fam in _FAMILIES for s in fam.SPECS}

# The programme, in order (stage 1 neutral spine, 2 glutes, 3 core, 4 deadlift).
PROGRAM: tuple[str, ...] = (
    "cat-cow",
    "dowel-hinge-kneeling",
    "dowel-hinge-standing",
    "hip-extension",
    "glute-bridge",
    "box-squat",
    "kettlebell-swing",
    "plank",
    "side-plank-left",
    "side-plank-right",
    "pallof-press",
    "turn-with-hips",
    "deadlift",
)


def get_spec(name: str) -> DrillSpec:
    try:
        return DRILLS[name]
    except KeyError:
        raise DrillError(f"unknown drill '{name}': choose one of {', '.join(PROGRAM)}") from None


def make_analyser(name: str, band: NeutralBand) -> Analyser:
    """A fresh analyser for the drill ``name`` judged against the wearer's ``band``."""
    spec = get_spec(name)
    return _BY_FAMILY[name].analyser(spec, band)


__all__ = [
    "DRILLS",
    "FAULTS",
    "PROGRAM",
    "Analyser",
    "Cue",
    "DrillError",
    "DrillFrame",
    "DrillSpec",
    "DrillUpdate",
    "HoldDrill",
    "HoldResult",
    "NeutralBand",
    "RepDrill",
    "RepResult",
    "get_spec",
    "make_analyser",
    "summarise",
]
