"""The two drill analysers every family is built from: reps and holds.

:class:`RepDrill` segments reps on a drive signal (pelvis tilt for a hinge, hip extension for
a bridge, a small backward lean for a Pallof press, the trunk's turn for a turning drill) and
judges each rep on the planes its spec watches; :class:`HoldDrill` finds holds from an
in-position test and measures time in the neutral band in the challenged plane. Both give
cues live and identical results however the input is chunked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from posture.drills.base import (
    LUMBAR_TURN,
    OVER_EXTENSION,
    ROUNDING,
    SIDE_BEND,
    TWIST,
    Cue,
    DrillFrame,
    DrillSpec,
    DrillUpdate,
    HoldResult,
    NeutralBand,
    RepResult,
)
from posture.drills.segment import HoldSegmenter, RepSegmenter, RepWindow
from posture.runs import true_runs

F64 = NDArray[np.float64]
PERSIST_S = 0.1  # a deviation must last this long to count as a fault (not a noise spike)
MIN_TURN_DEG = 15.0  # smaller trunk turns get no rotation share


def _persisted(mask: NDArray[np.bool_], t: F64, min_s: float) -> bool:
    """Whether ``mask`` holds for a run lasting at least ``min_s``."""
    if not mask.any():
        return False
    a, stop = true_runs(mask)
    return bool((t[stop - 1] - t[a] >= min_s - 1e-9).any())


def _signed_peak(x: F64) -> float:
    if not np.isfinite(x).any():
        return float("nan")
    return float(x[int(np.nanargmax(np.abs(x)))])


def fault_masks(
    f: DrillFrame, band: NeutralBand, watched: tuple[str, ...]
) -> dict[str, NDArray[np.bool_]]:
    """Per fault, where the watched planes are outside the neutral band, ``(N,)`` each."""
    out: dict[str, NDArray[np.bool_]] = {}
    with np.errstate(invalid="ignore"):
        if "flexion" in watched:
            out[ROUNDING] = f.flexion > band.flexion[1]
            out[OVER_EXTENSION] = f.flexion < band.flexion[0]
        if "extension" in watched:  # only the extension side (anti-extension holds)
            out[OVER_EXTENSION] = f.flexion < band.flexion[0]
        if "lateral_flexion" in watched:
            lo, hi = band.lateral_flexion
            out[SIDE_BEND] = (f.lateral_flexion < lo) | (f.lateral_flexion > hi)
        if "rotation" in watched:
            lo, hi = band.rotation
            out[TWIST] = (f.rotation < lo) | (f.rotation > hi)
    return out


@dataclass
class _Cues:
    """Live cues: the first sample of each fault in each rep/hold (by segment id)."""

    spec: DrillSpec
    said: set[tuple[int, str]] = field(default_factory=set)

    def check(
        self, f: DrillFrame, seg: NDArray[np.int64], masks: dict[str, NDArray[np.bool_]]
    ) -> list[Cue]:
        out: list[Cue] = []
        inside = seg >= 0
        if not inside.any():
            return out
        for fault, m in masks.items():
            hit = np.flatnonzero(m & inside)
            # The first sample of each rep/hold in this block (a few at most, not per sample).
            ids, first = np.unique(seg[hit], return_index=True)
            for rep_id, i in zip(ids.tolist(), hit[first].tolist(), strict=True):
                key = (int(rep_id), fault)
                if key in self.said:
                    continue
                self.said.add(key)
                out.append(Cue(float(f.t[i]), fault, self.spec.cues.get(fault, fault)))
        out.sort(key=lambda c: c.t_s)
        return out


DriveFn = Callable[[DrillFrame], F64]


class RepDrill:
    """Rep analyser: see the module docstring. ``drive`` maps a frame to deg (rep when high)."""

    def __init__(self, spec: DrillSpec, band: NeutralBand, drive: DriveFn | None = None):
        self.spec, self.band = spec, band
        p = spec.params
        self.seg = RepSegmenter(
            p.get("start_deg", 10.0),
            p.get("on_deg", 25.0),
            p.get("top_s", 0.8),
            p.get("min_s", 0.3),
        )
        self._drive = drive or self.default_drive
        self._cues = _Cues(spec)
        self.reps: list[RepResult] = []

    def default_drive(self, f: DrillFrame) -> F64:
        p = self.spec.params
        return p.get("drive_sign", 1.0) * (f.hip_angle - p.get("drive_baseline", 0.0))

    def push(self, f: DrillFrame) -> DrillUpdate:
        if len(f) == 0:
            return DrillUpdate()
        windows, seg = self.seg.push(f, self._drive(f))
        up = DrillUpdate(
            cues=self._cues.check(f, seg, fault_masks(f, self.band, self.spec.watched))
        )
        up.reps = [self._judge(w) for w in windows]
        self._after(up)
        return up

    def flush(self) -> DrillUpdate:
        up = DrillUpdate(reps=[self._judge(w) for w in self.seg.flush()])
        self._after(up)
        return up

    def _after(self, up: DrillUpdate) -> None:
        # A turn is judged once it is over: its cue comes with the rep.
        for r in up.reps:
            if LUMBAR_TURN in r.faults:
                text = self.spec.cues.get(LUMBAR_TURN, LUMBAR_TURN)
                up.cues.append(Cue(r.end_s, LUMBAR_TURN, text))
        self.reps.extend(up.reps)

    def hip_share(self, w: RepWindow, bottom: int) -> float:
        """Pelvis tilt / trunk inclination at the bottom (as :mod:`posture.reps`)."""
        if self.spec.params.get("hip_share", 1.0) == 0.0:
            return float("nan")  # not a hinge (Pallof press, turns)
        f = w.frame
        trunk = f.thoracic_inclination[bottom]
        if not np.isfinite(trunk) or abs(trunk) < 1.0:
            return float("nan")
        return float(f.hip_angle[bottom] / trunk)

    def _judge(self, w: RepWindow) -> RepResult:
        f, d = w.frame, w.drive
        body = f.take(slice(w.i_start, None))  # the rep without its baseline sample
        bottom = w.i_start + int(np.argmax(d[w.i_start : w.i_down + 1]))
        faults = [
            k
            for k, m in fault_masks(body, self.band, self.spec.watched).items()
            if _persisted(m, body.t, PERSIST_S)
        ]
        turn, share = self.rotation_share(w)
        if np.isfinite(share) and share < self.spec.params.get("min_rotation_share", 0.5):
            faults.append(LUMBAR_TURN)
        flex = body.flexion
        return RepResult(
            index=w.index,
            start_s=float(f.t[w.i_start]),
            bottom_s=float(f.t[bottom]),
            end_s=float(f.t[w.i_down]),
            peak_drive_deg=float(d[bottom]),
            hip_share=self.hip_share(w, bottom),
            max_flexion_deg=float(np.nanmax(flex)) if np.isfinite(flex).any() else float("nan"),
            min_flexion_deg=float(np.nanmin(flex)) if np.isfinite(flex).any() else float("nan"),
            peak_lateral_flexion_deg=_signed_peak(body.lateral_flexion),
            peak_rotation_deg=_signed_peak(body.rotation),
            trunk_turn_deg=turn,
            rotation_share=share,
            faults=tuple(sorted(set(faults))),
        )

    @staticmethod
    def rotation_share(w: RepWindow) -> tuple[float, float]:
        """(trunk turn deg, share of it from the hips) at the rep's largest trunk turn.

        Trunk turn = pelvis heading change + spine rotation change from the baseline sample
        (both + to the left); the hips' share is the pelvis heading change over the trunk
        turn, like the hip share of a hinge. NaN share when the trunk turned under
        ``MIN_TURN_DEG`` or the pelvis heading is unknown.
        """
        f = w.frame
        dh = f.pelvis_heading - f.pelvis_heading[0]
        dr = f.rotation - f.rotation[0]
        trunk = dh + dr
        if not np.isfinite(trunk).any():
            return float("nan"), float("nan")
        k = int(np.nanargmax(np.abs(trunk)))
        if abs(trunk[k]) < MIN_TURN_DEG:
            return float(trunk[k]), float("nan")
        return float(trunk[k]), float(dh[k] / trunk[k])


PositionFn = Callable[[DrillFrame], NDArray[np.bool_]]


class HoldDrill:
    """Hold analyser: in position → a hold; the challenged plane judged against the band."""

    def __init__(self, spec: DrillSpec, band: NeutralBand, in_position: PositionFn):
        self.spec, self.band = spec, band
        p = spec.params
        self.seg = HoldSegmenter(p.get("min_hold_s", 3.0), p.get("leave_s", 0.5))
        self._inpos = in_position
        self._cues = _Cues(spec)
        self.holds: list[HoldResult] = []

    def push(self, f: DrillFrame) -> DrillUpdate:
        if len(f) == 0:
            return DrillUpdate()
        windows, seg = self.seg.push(f, self._inpos(f))
        up = DrillUpdate(
            cues=self._cues.check(f, seg, fault_masks(f, self.band, self.spec.watched))
        )
        up.holds = [self._judge(w.frame, w.index) for w in windows]
        self.holds.extend(up.holds)
        return up

    def flush(self) -> DrillUpdate:
        up = DrillUpdate(holds=[self._judge(w.frame, w.index) for w in self.seg.flush()])
        self.holds.extend(up.holds)
        return up

    def deviation(self, f: DrillFrame) -> F64:
        """The challenged plane's angle (deg from neutral)."""
        return f.lateral_flexion if "lateral_flexion" in self.spec.watched else f.flexion

    def _judge(self, f: DrillFrame, index: int) -> HoldResult:
        masks = fault_masks(f, self.band, self.spec.watched)
        bad = np.zeros(len(f), bool)
        for m in masks.values():
            bad |= m
        dt = np.diff(f.t)
        in_band = float(np.sum(dt[~bad[:-1]]))
        need = self.spec.params.get("breakdown_s", 1.0)
        breakdown = float("nan")
        faults: list[str] = []
        for name, m in masks.items():
            if not m.any():
                continue
            a, stop = true_runs(m)
            long = np.flatnonzero(f.t[stop - 1] - f.t[a] >= need)
            if long.size:
                faults.append(name)
                t_b = float(f.t[a[long[0]]] - f.t[0])
                breakdown = t_b if np.isnan(breakdown) else min(breakdown, t_b)
        dev = self.deviation(f)
        sec = np.floor(f.t - f.t[0]).astype(int)
        trace = tuple(
            float(np.nanmean(dev[sec == s])) if np.isfinite(dev[sec == s]).any() else float("nan")
            for s in range(int(sec[-1]) + 1)
        )
        return HoldResult(
            index=index,
            start_s=float(f.t[0]),
            end_s=float(f.t[-1]),
            hold_s=float(f.t[-1] - f.t[0]),
            time_in_band_s=in_band,
            breakdown_s=breakdown,
            max_deviation_deg=_signed_peak(dev),
            faults=tuple(sorted(faults)),
            trace=trace,
        )


Analyser = RepDrill | HoldDrill


def summarise(spec: DrillSpec, analyser: Analyser) -> dict[str, Any]:
    """Per-drill summary numbers for people and for the progress store (NaN → None later).

    ``score`` (0–100): reps: the share of clean reps; holds: the share of hold time spent in
    the neutral band. Also hip share, maximum lumbar deviation beyond neutral, rotation share.
    """
    if isinstance(analyser, RepDrill):
        reps = analyser.reps
        n = len(reps)
        clean = sum(r.clean for r in reps)
        shares = np.array([r.hip_share for r in reps], float)
        rshare = np.array([r.rotation_share for r in reps], float)
        dev = np.array([max(abs(r.max_flexion_deg), abs(r.min_flexion_deg)) for r in reps], float)
        return {
            "reps": n,
            "clean_reps": int(clean),
            "score": 100.0 * clean / n if n else float("nan"),
            "hip_share": float(np.nanmean(shares)) if np.isfinite(shares).any() else float("nan"),
            "rotation_share": float(np.nanmean(rshare))
            if np.isfinite(rshare).any()
            else float("nan"),
            "max_lumbar_deviation_deg": float(np.nanmax(dev))
            if np.isfinite(dev).any()
            else float("nan"),
        }
    holds = analyser.holds
    total = sum(h.hold_s for h in holds)
    inband = sum(h.time_in_band_s for h in holds)
    return {
        "holds": len(holds),
        "hold_s": total,
        "time_in_band_s": inband,
        "score": 100.0 * inband / total if total > 0 else float("nan"),
        "max_lumbar_deviation_deg": max(
            (abs(h.max_deviation_deg) for h in holds), default=float("nan")
        ),
        "broke_down": sum(1 for h in holds if h.faults),
    }
