"""Live feedback for the calibration wizard, computed from raw IMU blocks (no Qt here).

Before calibration there is no spine model, so the feedback uses what raw sensors tell
directly: how fast each sensor turns (which one is moving?), whether both are still (the
standing phase), and how far the upper sensor tilts relative to the lower one compared with
standing (a proxy of flexion, good enough to count cat-cow cycles and show the range reached).
The calibration itself (:func:`calibration.calibrate`) is run on the collected blocks.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from calibration.functional import CalibrationSettings
from posture.constants import G
from posture.records import LUMBAR, ROLES, THORACIC, ImuBlock

F64 = NDArray[np.float64]
_CALIBRATION = CalibrationSettings()  # the wizard's stillness is calibration's


def _ema(old: float, new: float, dt: float, tau: float) -> float:
    if not math.isfinite(old):
        return new
    a = 1.0 - math.exp(-max(dt, 0.0) / tau)
    return old + a * (new - old)


class MotionMeter:
    """Per role: smoothed angular-rate magnitude (rad/s) and whether the sensor is still.

    Args:
        tau_s: smoothing time constant, s.
        still_gyr: rate below which a sensor counts as still, rad/s (calibration's).
        still_acc: |‖acc‖ − g| below which a sensor counts as still, m/s² (calibration's).
    """

    def __init__(
        self,
        tau_s: float = 0.25,
        still_gyr: float = _CALIBRATION.still_gyr,
        still_acc: float = _CALIBRATION.still_acc,
    ):
        self.tau_s = tau_s
        self.still_gyr = still_gyr
        self.still_acc = still_acc
        self.gyro = dict.fromkeys(ROLES, math.nan)
        self.shake = dict.fromkeys(ROLES, math.nan)
        self.t = dict.fromkeys(ROLES, math.nan)
        self.still_since = dict.fromkeys(ROLES, math.nan)
        self.acc_mean = {r: np.full(3, np.nan) for r in ROLES}

    def push(self, b: ImuBlock) -> None:
        if len(b) == 0 or b.sensor not in self.gyro:
            return
        r = b.sensor
        t = float(b.t[-1])
        dt = t - self.t[r] if math.isfinite(self.t[r]) else 0.0
        g = float(np.linalg.norm(b.gyr, axis=1).mean())
        s = float(np.abs(np.linalg.norm(b.acc, axis=1) - G).mean())
        self.gyro[r] = _ema(self.gyro[r], g, dt, self.tau_s)
        self.shake[r] = _ema(self.shake[r], s, dt, self.tau_s)
        self.acc_mean[r] = b.acc.mean(axis=0)
        self.t[r] = t
        if self.gyro[r] < self.still_gyr and self.shake[r] < self.still_acc:
            if not math.isfinite(self.still_since[r]):
                self.still_since[r] = float(b.t[0])
        else:
            self.still_since[r] = math.nan

    def still_for(self) -> float:
        """Seconds both sensors have been still (0 when either moves or has no data)."""
        held = []
        for r in ROLES:
            if not math.isfinite(self.still_since[r]):
                return 0.0
            held.append(self.t[r] - self.still_since[r])
        return max(0.0, min(held))

    def steadiness(self) -> float:
        """0 (moving a lot) … 1 (perfectly still), for the stillness meter."""
        worst = max((v for v in self.gyro.values() if math.isfinite(v)), default=math.nan)
        if not math.isfinite(worst):
            return 0.0
        return float(np.clip(1.0 - worst / (4.0 * self.still_gyr), 0.0, 1.0))


def _tilt_deg(acc: F64, up: F64) -> float:
    a = acc / max(float(np.linalg.norm(acc)), 1e-9)
    return float(np.degrees(np.arccos(np.clip(np.dot(a, up), -1.0, 1.0))))


class CatCowTracker:
    """Counts cat-cow cycles from the relative tilt of the two sensors.

    ``bend_deg`` = (thoracic tilt − lumbar tilt) from the standing pose, both from gravity:
    positive when rounding, negative when arching (while leaning forward, as cat-cow is done).
    A cycle is a rounding beyond ``round_deg`` followed by an arch beyond ``arch_deg``.

    Args:
        up: role → the accelerometer's mean direction while standing (sensor axes).
    """

    def __init__(self, up: dict[str, F64], round_deg: float = 12.0, arch_deg: float = -6.0) -> None:
        self.up = {r: np.asarray(v, float) / np.linalg.norm(v) for r, v in up.items()}
        self.round_deg = round_deg
        self.arch_deg = arch_deg
        self.tilt = dict.fromkeys(ROLES, math.nan)
        self.bend_deg = math.nan
        self.max_bend = math.nan
        self.min_bend = math.nan
        self.cycles = 0
        self._rounded = False

    def push(self, b: ImuBlock) -> None:
        if len(b) == 0 or b.sensor not in self.up:
            return
        self.tilt[b.sensor] = _tilt_deg(b.acc.mean(axis=0), self.up[b.sensor])
        bend = self.tilt[THORACIC] - self.tilt[LUMBAR]
        if not math.isfinite(bend):
            return
        self.bend_deg = bend
        self.max_bend = bend if not math.isfinite(self.max_bend) else max(self.max_bend, bend)
        self.min_bend = bend if not math.isfinite(self.min_bend) else min(self.min_bend, bend)
        if bend > self.round_deg:
            self._rounded = True
        elif bend < self.arch_deg and self._rounded:
            self._rounded = False
            self.cycles += 1
