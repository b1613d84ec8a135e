"""Hip-hinge rep segmentation and per-rep coaching metrics.

A rep is a run of the hip-hinge latch (pelvis tilted forward past ``on_deg``, released below
``off_deg``), widened to where the pelvis left and came back to near upright. Per rep: peak
and mean spine angles relative to neutral, peak hip angle, the **hip share** of the trunk's
forward lean at the bottom (pelvis tilt / thoracic inclination: 1.0 = a perfect hinge, all
from the hips), and time under tension. Over a set, the slope of peak flexion per rep shows
fatigue (reps getting rounder).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from posture.alerts import hysteresis
from posture.records import AngleBlock


@dataclass(frozen=True)
class RepSettings:
    on_deg: float = 25.0  # pelvis forward tilt that makes it a hinge
    off_deg: float = 10.0  # ...released below this
    upright_deg: float = 5.0  # rep boundaries: pelvis within this of standing
    min_duration_s: float = 0.6


@dataclass(frozen=True)
class RepMetrics:
    start_s: float
    bottom_s: float
    end_s: float
    peak_flexion_deg: float
    mean_flexion_deg: float
    peak_lateral_flexion_deg: float
    peak_rotation_deg: float
    peak_hip_angle_deg: float
    hip_share: float
    time_under_tension_s: float

    def to_json_dict(self) -> dict[str, float]:
        return {k: round(float(v), 3) for k, v in asdict(self).items()}


def _signed_peak(x: np.ndarray) -> float:
    if not np.isfinite(x).any():
        return float("nan")
    i = int(np.nanargmax(np.abs(x)))
    return float(x[i])


def segment_reps(a: AngleBlock, settings: RepSettings | None = None) -> list[RepMetrics]:
    """Find hinge reps in an angle block (batch)."""
    s = settings or RepSettings()
    n = len(a)
    if n == 0:
        return []
    hip = np.nan_to_num(a.hip_angle, nan=0.0)
    latch = hysteresis((hip > s.on_deg)[:, None], (hip < s.off_deg)[:, None], np.zeros(1, bool))[
        :, 0
    ]
    d = np.diff(np.concatenate(([0], latch.astype(np.int8), [0])))
    reps = []
    upright = hip < s.upright_deg
    k = max(1, int(0.1 / max(float(np.median(np.diff(a.t))), 1e-3)) if n > 1 else 1)
    smooth = np.convolve(hip, np.ones(k) / k, mode="same")
    for i0, i1 in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True):
        before = np.flatnonzero(upright[:i0])
        start = int(before[-1]) if before.size else 0
        # Walk on to where the pelvis actually started moving (its smoothed tilt stops falling).
        # (at most 0.3 s: noise while standing must not drag it back further).
        limit = a.t[start] - 0.3
        while start > 0 and smooth[start - 1] < smooth[start] and a.t[start - 1] >= limit:
            start -= 1
        # The end: back within 1.5° of the standing pelvis, then on while it still settles
        # (at most 0.3 s, for the same reason).
        after = np.flatnonzero(smooth[i1:] < 1.5)
        end = int(i1 + after[0]) if after.size else n - 1
        limit = a.t[end] + 0.3
        while end < n - 1 and smooth[end + 1] < smooth[end] and a.t[end + 1] <= limit:
            end += 1
        if a.t[end] - a.t[start] < s.min_duration_s:
            continue
        seg = slice(start, end + 1)
        bottom = start + int(np.argmax(hip[seg]))
        trunk = a.thoracic_inclination[bottom]
        share = (
            float(hip[bottom] / trunk) if np.isfinite(trunk) and abs(trunk) > 1.0 else float("nan")
        )
        flex = a.flexion[seg]
        reps.append(
            RepMetrics(
                float(a.t[start]),
                float(a.t[bottom]),
                float(a.t[end]),
                float(np.nanmax(flex)) if np.isfinite(flex).any() else float("nan"),
                float(np.nanmean(flex)) if np.isfinite(flex).any() else float("nan"),
                _signed_peak(a.lateral_flexion[seg]),
                _signed_peak(a.rotation[seg]),
                float(hip[bottom]),
                share,
                float(a.t[end] - a.t[start]),
            )
        )
    return reps


def fatigue_slope(reps: list[RepMetrics]) -> float:
    """Change of peak flexion per rep over a set (deg/rep; > 0: reps getting rounder)."""
    y = np.array([r.peak_flexion_deg for r in reps])
    if y.size < 3 or not np.isfinite(y).all():
        return float("nan")
    return float(np.polyfit(np.arange(y.size), y, 1)[0])
