"""Shared values of every drill: the input frame, the wearer's neutral band, specs and results.

A drill analyser is fed :class:`DrillFrame` blocks (numpy arrays, one row per lumbar sample)
and returns :class:`DrillUpdate` values: cues as soon as form goes wrong, reps and holds when
they complete. Analysers keep explicit state and give identical results however their input
is chunked (tested). Angles are in degrees (these are outputs for people), times in s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from posture.errors import PostureError
from posture.records import AngleBlock

F64 = NDArray[np.float64]

# Fault names shared by detectors, the simulator's truth, the store and the cues.
ROUNDING = "rounding"  # lumbar flexion beyond the neutral band
OVER_EXTENSION = "over_extension"  # lumbar extension beyond the band (sagging, arching)
SIDE_BEND = "side_bend"  # lateral flexion beyond the band
TWIST = "twist"  # axial rotation of the lumbar spine beyond the band
LUMBAR_TURN = "lumbar_turn"  # a turn that came mostly from the lumbar spine, not the hips
FAULTS = (ROUNDING, OVER_EXTENSION, SIDE_BEND, TWIST, LUMBAR_TURN)


class DrillError(PostureError):
    """A drill name or drill input is wrong; the message says which drills exist."""


@dataclass(frozen=True, eq=False)
class DrillFrame:
    """Spine and pelvis angles on the lumbar clock (deg, each ``(N,)``).

    Attributes:
        t: lumbar time stamps, s.
        flexion, lateral_flexion, rotation: spine angles relative to the calibrated neutral.
        hip_angle: forward tilt of the pelvis (+ forward; −90 lying on the back).
        thoracic_inclination: forward tilt of the upper trunk.
        pelvis_heading: heading of the pelvis (+ turning left), unwrapped; only its changes
            mean something (6D fusion has no absolute heading). NaN when unknown.
        pelvis_roll: side tilt of the pelvis: + when the right hip faces up (lying on the
            left side), −90 lying on the right side. NaN when unknown.
    """

    t: F64
    flexion: F64
    lateral_flexion: F64
    rotation: F64
    hip_angle: F64
    thoracic_inclination: F64
    pelvis_heading: F64
    pelvis_roll: F64

    def __post_init__(self) -> None:
        n = np.asarray(self.t).shape[0]
        for f in fields(self):
            a = np.ascontiguousarray(getattr(self, f.name), dtype=np.float64)
            if a.shape != (n,):
                raise DrillError(f"DrillFrame.{f.name} must have shape ({n},), got {a.shape}")
            object.__setattr__(self, f.name, a)

    def __len__(self) -> int:
        return int(self.t.shape[0])

    @classmethod
    def from_angles(
        cls,
        a: AngleBlock,
        pelvis_heading: F64 | None = None,
        pelvis_roll: F64 | None = None,
    ) -> DrillFrame:
        nan = np.full(len(a), np.nan)
        return cls(
            a.t,
            a.flexion,
            a.lateral_flexion,
            a.rotation,
            a.hip_angle,
            a.thoracic_inclination,
            nan if pelvis_heading is None else pelvis_heading,
            nan if pelvis_roll is None else pelvis_roll,
        )

    @classmethod
    def empty(cls) -> DrillFrame:
        z = np.zeros(0)
        return cls(z, z, z, z, z, z, z, z)

    def take(self, index: slice | NDArray[Any]) -> DrillFrame:
        return DrillFrame(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @staticmethod
    def concat(parts: Sequence[DrillFrame]) -> DrillFrame:
        if not parts:
            return DrillFrame.empty()
        if len(parts) == 1:
            return parts[0]
        return DrillFrame(
            **{
                f.name: np.concatenate([getattr(p, f.name) for p in parts])
                for f in fields(DrillFrame)
            }
        )

    def chunks(self, size: int) -> list[DrillFrame]:
        """The frame cut into consecutive blocks of ``size`` samples (for feeding analysers)."""
        return [self.take(slice(i, i + size)) for i in range(0, len(self), max(1, size))]


# Share of the wearer's range, either side of neutral, that still counts as neutral; clamped
# so a very stiff or very mobile wearer still gets a usable band (deg).
BAND_FRACTION = 0.2
BAND_FLOOR = {"flexion": 6.0, "lateral_flexion": 5.0, "rotation": 4.0}
BAND_CAP = {"flexion": 10.0, "lateral_flexion": 8.0, "rotation": 6.0}
DEFAULT_RANGES = {
    "flexion": (-30.0, 30.0),
    "lateral_flexion": (-25.0, 25.0),
    "rotation": (-12.0, 12.0),
}


@dataclass(frozen=True)
class NeutralBand:
    """The wearer's neutral band per plane: (low, high) deg relative to the calibrated neutral.

    Built from the calibration ranges: ``BAND_FRACTION`` of the range on each side, clamped to
    ``BAND_FLOOR``..``BAND_CAP``. On the extension side the band also reaches the wearer's own
    standing posture (plus the same margin): standing lordosis is the wearer's normal, so only
    extension beyond it counts as over-extension.
    """

    flexion: tuple[float, float] = (-8.0, 8.0)
    lateral_flexion: tuple[float, float] = (-6.0, 6.0)
    rotation: tuple[float, float] = (-5.0, 5.0)

    @classmethod
    def from_ranges(
        cls, ranges: Mapping[str, Sequence[float]] | None, standing_flexion_deg: float = 0.0
    ) -> NeutralBand:
        out: dict[str, tuple[float, float]] = {}
        for plane, (lo0, hi0) in DEFAULT_RANGES.items():
            lo, hi = (ranges or {}).get(plane, (lo0, hi0))
            m_lo = float(np.clip(BAND_FRACTION * abs(lo), BAND_FLOOR[plane], BAND_CAP[plane]))
            m_hi = float(np.clip(BAND_FRACTION * abs(hi), BAND_FLOOR[plane], BAND_CAP[plane]))
            low = -m_lo
            if plane == "flexion":
                low = min(low, float(standing_flexion_deg) - m_lo)
            out[plane] = (low, m_hi)
        return cls(out["flexion"], out["lateral_flexion"], out["rotation"])

    def to_json_dict(self) -> dict[str, list[float]]:
        return {k: [round(v[0], 2), round(v[1], 2)] for k, v in asdict(self).items()}


@dataclass(frozen=True)
class DrillSpec:
    """What a drill is: how it is done, what must stay still, how it is judged.

    Attributes:
        name: command-line name (``dowel-hinge-kneeling``...).
        title: name for people.
        family: module that analyses it (``hinge``, ``glutes``, ``holds``...).
        stage: step of the programme (1 neutral spine, 2 glutes, 3 core, 4 deadlift).
        kind: ``reps`` or ``hold``.
        instruction: one or two sentences shown before the drill.
        watched: planes that must stay inside the neutral band.
        cues: fault → what to say when it happens.
        target_sets, target_reps, target_hold_s: the prescription.
        pass_rule: the documented pass criterion, for people.
        regression, progression: the easier and the harder drill (names or text).
        params: detector settings of the family (thresholds in deg, durations in s).
    """

    name: str
    title: str
    family: str
    stage: int
    kind: str
    instruction: str
    watched: tuple[str, ...]
    cues: Mapping[str, str]
    target_sets: int = 3
    target_reps: int = 8
    target_hold_s: float = 0.0
    pass_rule: str = ""
    regression: str = ""
    progression: str = ""
    params: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Cue:
    """Said (and buzzed) the moment a fault starts."""

    t_s: float
    fault: str
    text: str


@dataclass(frozen=True)
class RepResult:
    """One rep: timing, the hinge metrics and the faults seen.

    Deviations are deg relative to the neutral band's edge (> 0: outside the band).
    ``hip_share``: pelvis tilt / trunk inclination at the bottom (1 = all from the hips).
    ``rotation_share``: share of the trunk's turn that came from the hips (NaN: no turn).
    """

    index: int
    start_s: float
    bottom_s: float
    end_s: float
    peak_drive_deg: float
    hip_share: float
    max_flexion_deg: float
    min_flexion_deg: float
    peak_lateral_flexion_deg: float
    peak_rotation_deg: float
    trunk_turn_deg: float
    rotation_share: float
    faults: tuple[str, ...]

    @property
    def clean(self) -> bool:
        return not self.faults

    def to_json_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["faults"] = list(self.faults)
        return {k: _json_num(v) for k, v in d.items()}


@dataclass(frozen=True)
class HoldResult:
    """One hold: how long, how long inside the band in the challenged plane, when it broke.

    ``breakdown_s``: seconds into the hold when form broke down (deviation beyond the band for
    longer than the drill's ``breakdown_s`` param), NaN when it never did. ``trace``: the
    challenged plane's deviation from neutral, deg, one value per second (for plots).
    """

    index: int
    start_s: float
    end_s: float
    hold_s: float
    time_in_band_s: float
    breakdown_s: float
    max_deviation_deg: float
    faults: tuple[str, ...]
    trace: tuple[float, ...] = ()

    @property
    def clean(self) -> bool:
        return not self.faults

    def to_json_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["faults"] = list(self.faults)
        d["trace"] = [_json_num(v) for v in self.trace]
        return {k: _json_num(v) for k, v in d.items()}


def _json_num(v: Any) -> Any:
    """Rounded floats; NaN becomes null (JSON never carries NaN)."""
    if isinstance(v, float | np.floating):
        return None if not np.isfinite(v) else round(float(v), 3)
    return v


@dataclass
class DrillUpdate:
    """What one push produced."""

    cues: list[Cue] = field(default_factory=list)
    reps: list[RepResult] = field(default_factory=list)
    holds: list[HoldResult] = field(default_factory=list)

    def extend(self, other: DrillUpdate) -> None:
        self.cues.extend(other.cues)
        self.reps.extend(other.reps)
        self.holds.extend(other.holds)
