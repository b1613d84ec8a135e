"""Hinge rep segmentation and per-rep coaching metrics.

A rep is a forward hinge of the trunk: the thoracic inclination past ``on_deg`` (released
below ``off_deg``), widened to where the trunk left and came back to near upright. Using the
trunk rather than the pelvis alone, a rounded rep with little hip (27° flexion, 38 % hip share)
is still a rep. Only plausible reps count: at least ``min_depth_deg`` deep,
``min_duration_s``–``max_duration_s`` long (a 28-s
cat-cow or time on all fours is not a rep), complete (upright before and after), and part of a
set — another rep within ``set_gap_s`` before or after it — so a lone hinge (picking something
up, sitting down) is not a rep. The **bottom** is the middle of the bottom plateau: the run of
samples around the deepest point within ``plateau_deg`` of it (of the smoothed trunk angle).

Per rep: peak and mean spine angles relative to neutral, peak hip angle, the **hip share** of
the trunk's forward lean at the bottom (pelvis tilt / thoracic inclination: 1.0 = a perfect
hinge, all from the hips), and time under tension. Over a set, the slope of peak flexion per
rep shows fatigue (reps getting rounder).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from posture.load import hinge_latch
from posture.median import median
from posture.records import AngleBlock
from posture.runs import true_runs


@dataclass(frozen=True)
class RepSettings:
    """Rep segmentation (angles in deg, times in s); see the module doc."""

    on_deg: float = 30.0  # trunk forward inclination that makes it a hinge
    off_deg: float = 15.0  # ...released below this
    upright_deg: float = 8.0  # rep boundaries: trunk within this of standing
    min_depth_deg: float = 40.0  # the trunk must reach this (leaning to sit down is no rep)
    min_duration_s: float = 0.6
    max_duration_s: float = 8.0
    set_gap_s: float = 5.0
    plateau_deg: float = 1.5  # the bottom plateau: within this of the deepest point


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


def _window(t: np.ndarray) -> int:
    """Samples in 0.1 s (rounded, so a buffer and the whole recording agree)."""
    return max(1, round(0.1 / max(median(np.diff(t)), 1e-3))) if t.size > 1 else 1


def _smooth(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Centred 0.1-s moving average (edges: the mean of what is there)."""
    n = x.size
    w = np.ones(_window(t))
    return np.convolve(x, w, mode="same") / np.convolve(np.ones(n), w, mode="same")


def _candidates(a: AngleBlock, s: RepSettings, floor_s: float) -> list[tuple[int, int, int]]:
    """(start, bottom, end) indices of complete, plausibly long trunk hinges; none starts
    before ``floor_s`` or before the previous one ended."""
    n = len(a)
    trunk = np.nan_to_num(a.thoracic_inclination, nan=0.0)
    latch = hinge_latch(trunk, s.on_deg, s.off_deg, np.zeros(1, bool))
    sm = _smooth(trunk, a.t)
    margin = _window(a.t)
    upright = sm < s.upright_deg
    out: list[tuple[int, int, int]] = []
    for i0, i1 in zip(*true_runs(latch), strict=True):
        before = np.flatnonzero(upright[:i0])
        after = np.flatnonzero(upright[i1:])
        if not before.size or not after.size:
            continue  # incomplete: it began before the data or has not ended yet
        start = int(before[-1])
        # Walk on to where the trunk actually started moving (its smoothed tilt stops
        # falling), at most 0.3 s: noise while standing must not drag it back further.
        limit = a.t[start] - 0.3
        while start > 0 and sm[start - 1] < sm[start] and a.t[start - 1] >= limit:
            start -= 1
        # Reps back to back (kettlebell swings) share a boundary, never overlap.
        floor = max(floor_s, float(a.t[out[-1][2]]) if out else -np.inf)
        start = max(start, int(np.searchsorted(a.t, floor)))
        end = int(i1 + after[0])
        limit = a.t[end] + 0.3
        while end < n - 1 and sm[end + 1] < sm[end] and a.t[end + 1] <= limit:
            end += 1
        if start < margin or end >= n - margin:
            continue  # too close to the edge of the data for the smoothing: not complete yet
        dur = a.t[end] - a.t[start]
        if not s.min_duration_s <= dur <= s.max_duration_s:
            continue
        seg = sm[start : end + 1]
        deep = int(np.argmax(seg))
        if seg[deep] < s.min_depth_deg:
            continue
        low = seg < seg[deep] - s.plateau_deg
        left = np.flatnonzero(low[:deep])
        right = np.flatnonzero(low[deep:])
        p0 = int(left[-1]) + 1 if left.size else 0
        p1 = deep + int(right[0]) - 1 if right.size else seg.size - 1
        # The middle of the plateau in time (samples may be uneven after gaps).
        tb = 0.5 * (a.t[start + p0] + a.t[start + p1])
        bottom = start + p0 + int(np.argmin(np.abs(a.t[start + p0 : start + p1 + 1] - tb)))
        out.append((start, bottom, end))
    return out


def segment_reps(
    a: AngleBlock, settings: RepSettings | None = None, prev_end_s: float = -np.inf
) -> list[RepMetrics]:
    """Find hinge reps in an angle block (batch).

    ``prev_end_s``: end of a rep found earlier, before this block (the live tracker's last
    rep), so that a rep right after it counts as part of the same set.
    """
    s = settings or RepSettings()
    if len(a) < 2:
        return []
    cands = _candidates(a, s, prev_end_s)
    t = a.t
    reps = []
    for k, (start, bottom, end) in enumerate(cands):
        gap_before = t[start] - (t[cands[k - 1][2]] if k else prev_end_s)
        gap_after = t[cands[k + 1][0]] - t[end] if k + 1 < len(cands) else np.inf
        if min(gap_before, gap_after) > s.set_gap_s:
            continue  # a lone hinge, not part of a set
        if t[end] <= prev_end_s:
            continue  # reported already
        reps.append(_metrics(a, start, bottom, end))
    return reps


def _metrics(a: AngleBlock, start: int, bottom: int, end: int) -> RepMetrics:
    seg = slice(start, end + 1)
    hip = a.hip_angle
    trunk = a.thoracic_inclination[bottom]
    share = float(hip[bottom] / trunk) if np.isfinite(trunk) and abs(trunk) > 1.0 else np.nan
    flex = a.flexion[seg]
    some = bool(np.isfinite(flex).any())
    return RepMetrics(
        float(a.t[start]),
        float(a.t[bottom]),
        float(a.t[end]),
        float(np.nanmax(flex)) if some else float("nan"),
        float(np.nanmean(flex)) if some else float("nan"),
        _signed_peak(a.lateral_flexion[seg]),
        _signed_peak(a.rotation[seg]),
        float(np.nanmax(hip[seg])) if np.isfinite(hip[seg]).any() else float("nan"),
        share,
        float(a.t[end] - a.t[start]),
    )


def fatigue_slope(reps: list[RepMetrics]) -> float:
    """Change of peak flexion per rep over a set (deg/rep; > 0: reps getting rounder)."""
    y = np.array([r.peak_flexion_deg for r in reps])
    if y.size < 3 or not np.isfinite(y).all():
        return float("nan")
    return float(np.polyfit(np.arange(y.size), y, 1)[0])
