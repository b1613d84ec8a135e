"""A simulated sensor table calibration: each sensor resting on its six faces in turn.

The recording :func:`calibration.sensor_table.fit_table` expects: the sensor (not worn) is
turned by hand onto each face, held still for a few seconds on a table that is not quite
level, with the same sensor faults as in every other recording of that sensor
(:func:`sim.sensors.sensor_faults`: the sensor's own accelerometer bias and scale plus this
recording's turn-on part).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from posture import quat as Q
from posture.records import ROLES, ImuBlock
from sim.movement import G, SimConfig, min_jerk
from sim.sensors import sensor_faults

F64 = NDArray[np.float64]

# Sensor axis that points up on each face (the sensor's +X, −X, +Y... resting upward).
_UP = np.array([[1.0, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]])


def _face_quat(up: F64, spin: float, tilt: F64) -> F64:
    """Sensor orientation (sensor → world) with sensor axis ``up`` along world +z, turned
    ``spin`` rad about the vertical and tilted by the small rotation vector ``tilt`` (rad)."""
    z = np.array([0.0, 0, 1])
    axis = np.cross(up, z)
    ang = float(np.arccos(np.clip(np.dot(up, z), -1, 1)))
    if np.linalg.norm(axis) < 1e-9:
        axis = np.array([1.0, 0, 0])
    q = Q.from_axis_angle(axis, ang)
    q = Q.multiply(Q.from_axis_angle(z, spin), q)
    t = float(np.linalg.norm(tilt))
    return Q.multiply(Q.from_axis_angle(tilt if t > 0 else z, t), q)


def table_recording(
    cfg: SimConfig,
    hold_s: float = 5.0,
    turn_s: float = 2.5,
    faces: tuple[int, ...] = tuple(range(6)),
) -> dict[str, ImuBlock]:
    """Both sensors' raw data (role → block) of a table calibration, resting on ``faces``
    (indices into +X, −X, +Y, −Y, +Z, −Z up) for ``hold_s`` each with ``turn_s`` turns."""
    rng = np.random.default_rng([cfg.seed, 11])
    out = {}
    for role in ROLES:
        order = rng.permutation(list(faces))
        # Each face turned at random about the vertical, the table a little off level.
        quats = [
            _face_quat(
                _UP[i], rng.uniform(-np.pi, np.pi), np.radians(rng.normal(0, 1.5, 3) * [1, 1, 0])
            )
            for i in order
        ]
        rate = cfg.rate_of(role)
        period = hold_s + turn_s
        dur = turn_s + period * len(quats)
        t = np.arange(int(dur * rate)) / rate
        k = np.clip(((t - turn_s) // period).astype(int), 0, len(quats) - 1)
        frac = np.clip((t - turn_s - k * period - hold_s) / turn_s, 0.0, 1.0)
        q = np.array(quats)[k]
        nxt = np.array(quats)[np.minimum(k + 1, len(quats) - 1)]
        q = _slerp(q, nxt, min_jerk(frac))
        dt = 1.0 / rate
        dq = Q.multiply(Q.conj(q[:-1]), q[1:])
        dq = np.where(dq[:, :1] < 0, -dq, dq)
        w = np.vstack((2.0 * dq[:, 1:] / dt, np.zeros((1, 3))))
        acc = Q.rotate(Q.conj(q), np.array([0.0, 0.0, G]))
        gyr = w
        if not cfg.ideal:
            gyr, acc = sensor_faults(cfg, role, gyr, acc, rate, [cfg.seed, 10, len(role)])
        out[role] = ImuBlock(role, 500.0 + t, acc, gyr)
    return out


def _slerp(a: F64, b: F64, f: F64) -> F64:
    """Spherical interpolation of quaternions ``(N, 4)`` by fractions ``(N,)``."""
    d = np.sum(a * b, axis=1)
    b = np.where(d[:, None] < 0, -b, b)
    d = np.abs(d)
    th = np.arccos(np.clip(d, -1.0, 1.0))
    s = np.sin(th)
    small = s < 1e-6
    wa = np.where(small, 1.0 - f, np.sin((1.0 - f) * th) / np.where(small, 1.0, s))
    wb = np.where(small, f, np.sin(f * th) / np.where(small, 1.0, s))
    return Q.normalize(wa[:, None] * a + wb[:, None] * b)
