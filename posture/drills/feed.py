"""Drill frames from raw IMU data: the engine's spine angles plus the pelvis heading and roll.

The engine's angle blocks carry spine angles and inclinations; drills also need where the
pelvis faces (the hips' part of a turn) and whether it lies on its side (side plank). Those
come from a second 6D filter on the lumbar sensor, with the profile's lumbar mounting, joined
to the angles on the lumbar time stamps. :class:`DrillFeed` does this live (blocks in any
chunking) and :func:`frames_from_raw` for a whole recording.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from posture import quat as Q
from posture.angles import SpineModel, heading_of_right_axis
from posture.drills.base import DrillFrame
from posture.engine import EngineSettings, PostureEngine, analyze
from posture.fusion import OrientationFilter
from posture.records import LUMBAR, AngleBlock, ImuBlock

F64 = NDArray[np.float64]
TWO_PI_DEG = 360.0


class PelvisTracker:
    """Pelvis heading (deg, unwrapped, + left) and roll (deg, + right hip up) from the lumbar
    sensor, streaming. Unwrapping keeps an integer turn count, so chunking changes nothing."""

    def __init__(self, model: SpineModel, rate_hz: float, settings: EngineSettings | None = None):
        s = settings or EngineSettings()
        self._filter = OrientationFilter(rate_hz, s.fusion, LUMBAR)
        self._mount = model.mount_lumbar
        self._last: float | None = None
        self._turns = 0

    def push(self, block: ImuBlock) -> tuple[F64, F64, F64]:
        """Times, heading and roll (deg) for a lumbar block, ``(N,)`` each."""
        ob = self._filter.process(block)
        if len(ob) == 0:
            z = np.zeros(0)
            return z, z, z
        q = Q.multiply(ob.quat, Q.conj(self._mount))
        raw = np.degrees(heading_of_right_axis(q))
        prev = raw[0] if self._last is None else self._last
        step = np.diff(np.concatenate(([prev], raw)))
        jumps = -np.rint(step / TWO_PI_DEG).astype(np.int64)
        turns = self._turns + np.cumsum(jumps)
        self._turns = int(turns[-1])
        self._last = float(raw[-1])
        heading = raw + turns * TWO_PI_DEG
        z_up = Q.rotate(q, np.array([0.0, 0.0, 1.0]))[:, 2]
        roll = np.degrees(np.arcsin(np.clip(z_up, -1.0, 1.0)))
        return ob.t, heading, roll


def join(angles: AngleBlock, t: F64, heading: F64, roll: F64) -> DrillFrame:
    """Angles plus the pelvis signals interpolated onto the angle times."""
    if len(angles) == 0:
        return DrillFrame.empty()
    if t.size == 0:
        return DrillFrame.from_angles(angles)
    nan = np.nan
    h = np.interp(angles.t, t, heading, left=nan, right=nan)
    r = np.interp(angles.t, t, roll, left=nan, right=nan)
    return DrillFrame.from_angles(angles, h, r)


def frames_from_raw(
    raw: Mapping[str, ImuBlock], model: SpineModel, settings: EngineSettings | None = None
) -> DrillFrame:
    """Whole recording → one drill frame (the batch path; same engine as live)."""
    angles = analyze(raw, model, settings)
    lumbar = raw[LUMBAR]
    tracker = PelvisTracker(model, lumbar.nominal_rate(), settings)
    t, h, r = tracker.push(lumbar)
    return join(angles, t, h, r)


class DrillFeed:
    """Live: raw blocks of both sensors in (any chunking), drill frames out.

    The engine holds lumbar samples back until thoracic data arrive; the pelvis signals are
    kept until the angles catch up, so every emitted frame has both.
    """

    def __init__(self, model: SpineModel, rate_hz: float, settings: EngineSettings | None = None):
        s = settings or EngineSettings(lumbar_rate_hz=rate_hz, thoracic_rate_hz=rate_hz)
        self.engine = PostureEngine(model, s)
        self.pelvis = PelvisTracker(model, rate_hz, s)
        self._t = np.zeros(0)
        self._h = np.zeros(0)
        self._r = np.zeros(0)

    def push(self, block: ImuBlock) -> DrillFrame:
        if block.sensor == LUMBAR:
            t, h, r = self.pelvis.push(block)
            self._t = np.concatenate((self._t, t))
            self._h = np.concatenate((self._h, h))
            self._r = np.concatenate((self._r, r))
        return self._emit(self.engine.push(block))

    def flush(self) -> DrillFrame:
        return self._emit(self.engine.flush())

    def _emit(self, angles: AngleBlock) -> DrillFrame:
        f = join(angles, self._t, self._h, self._r)
        if len(angles):
            # Keep one sample before the last angle time for the next interpolation.
            k = max(0, int(np.searchsorted(self._t, angles.t[-1], side="right")) - 1)
            self._t, self._h, self._r = self._t[k:], self._h[k:], self._r[k:]
        return f
