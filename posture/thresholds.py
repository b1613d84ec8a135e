"""Alert thresholds per plane, from the wearer's own range or given in degrees.

Default: a fraction of the wearer's calibrated range on each side of neutral (e.g. 30 % of the
flexion range), clamped between absolute floors and caps so that a very stiff or very mobile
wearer still gets sensible limits. Presets per exercise change the fractions; ``--thresholds``
gives absolute limits that override everything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from posture.errors import PostureError

PLANES = ("flexion", "lateral_flexion", "rotation")
FLOORS = {"flexion": 8.0, "lateral_flexion": 6.0, "rotation": 5.0}  # deg
CAPS = {"flexion": 25.0, "lateral_flexion": 15.0, "rotation": 12.0}  # deg
PRESETS: dict[str, dict[str, float]] = {
    # Fraction of the range either side of neutral before an alert, per plane.
    "deadlift": {"flexion": 0.3, "lateral_flexion": 0.3, "rotation": 0.4},
    "squat": {"flexion": 0.35, "lateral_flexion": 0.3, "rotation": 0.4},
    "row": {"flexion": 0.3, "lateral_flexion": 0.3, "rotation": 0.35},
    "general": {"flexion": 0.4, "lateral_flexion": 0.4, "rotation": 0.5},
}


class ThresholdError(PostureError):
    """A threshold specification is malformed."""


@dataclass(frozen=True)
class Thresholds:
    """Limits (deg, relative to neutral) per plane and side, with hysteresis and debounce.

    Attributes:
        limits: plane → (negative-side limit < 0, positive-side limit > 0), deg.
        hysteresis_deg: an excursion ends only this far back inside the limit.
        min_duration_s: the angle must stay beyond the limit this long to alert.
    """

    limits: Mapping[str, tuple[float, float]] = field(
        default_factory=lambda: {p: (-CAPS[p], CAPS[p]) for p in PLANES}
    )
    hysteresis_deg: float = 2.0
    min_duration_s: float = 0.1

    @classmethod
    def from_ranges(
        cls,
        ranges: Mapping[str, tuple[float, float]],
        preset: str = "deadlift",
        standing_flexion_deg: float | None = None,
        **kw: Any,
    ) -> Thresholds:
        """From a profile's ranges (plane → (neg, pos) deg around neutral).

        ``standing_flexion_deg``: where quiet standing sits relative to neutral (usually a
        few degrees into extension, since neutral is mid-range). The flexion limit on that
        side is kept at least 5° beyond it, so standing tall never alerts.
        """
        if preset not in PRESETS:
            raise ThresholdError(f"unknown preset '{preset}': choose {', '.join(PRESETS)}")
        limits = {}
        for p in PLANES:
            lo, hi = ranges.get(p, (-CAPS[p], CAPS[p]))
            frac = PRESETS[preset][p]

            def clamp(v: float, plane: str = p) -> float:
                return min(max(v, FLOORS[plane]), CAPS[plane])

            limits[p] = (-clamp(frac * abs(lo)), clamp(frac * abs(hi)))
        if standing_flexion_deg is not None:
            lo, hi = limits["flexion"]
            limits["flexion"] = (
                min(lo, standing_flexion_deg - 5.0),
                max(hi, standing_flexion_deg + 5.0),
            )
        return cls(limits, **kw)

    @classmethod
    def parse(cls, spec: str, base: Thresholds | None = None) -> Thresholds:
        """``flexion=20,lateral_flexion=15,rotation=10`` (deg either side); others from base."""
        b = base or cls()
        limits = dict(b.limits)
        for part in filter(None, (s.strip() for s in spec.split(","))):
            name, sep, value = part.partition("=")
            name = name.strip()
            if not sep or name not in PLANES:
                raise ThresholdError(
                    f"bad threshold '{part}': use PLANE=DEG with PLANE one of {', '.join(PLANES)}"
                )
            try:
                deg = float(value)
            except ValueError:
                raise ThresholdError(f"bad threshold '{part}': '{value}' is not a number") from None
            if not 0 < deg < 90:
                raise ThresholdError(f"bad threshold '{part}': use a limit between 0 and 90 deg")
            limits[name] = (-deg, deg)
        return cls(limits, b.hysteresis_deg, b.min_duration_s)

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "limits": {p: [float(a), float(b)] for p, (a, b) in self.limits.items()},
            "hysteresis_deg": self.hysteresis_deg,
            "min_duration_s": self.min_duration_s,
        }

    @classmethod
    def from_json_dict(cls, d: Mapping[str, Any]) -> Thresholds:
        try:
            limits = {p: (float(a), float(b)) for p, (a, b) in d["limits"].items()}
            out = cls(
                {p: limits[p] for p in PLANES},  # every plane, nothing else
                float(d.get("hysteresis_deg", 2.0)),
                float(d.get("min_duration_s", 0.1)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ThresholdError(f"malformed thresholds ({type(exc).__name__}: {exc})") from None
        values = [v for lim in out.limits.values() for v in lim]
        if not all(math.isfinite(v) for v in [*values, out.hysteresis_deg, out.min_duration_s]):
            raise ThresholdError("malformed thresholds (a limit is not a finite number)")
        return out
