"""Hand-built IMU data for tests: sensors following scripted orientations, no noise.

``q_up`` is an upright segment facing world +x (ISB axes X forward, Y up, Z right; world z up).
Sensor axes equal segment axes (identity mounting) unless a mounting is given.
"""

from __future__ import annotations

import numpy as np

from posture import quat as Q
from posture.angles import quat_from_zxy
from posture.records import ImuBlock
from sim.movement import Q_UP, min_jerk  # noqa: E402,F401  (upright segment facing +x)


def zxy_deg(flex: float = 0.0, lat: float = 0.0, rot: float = 0.0) -> np.ndarray:
    """Relative orientation for given flexion/lateral/rotation (deg, reported signs)."""
    return quat_from_zxy(np.radians(-flex), np.radians(lat), np.radians(rot))


def imu_from_quats(sensor: str, t: np.ndarray, q: np.ndarray) -> ImuBlock:
    """Ideal gyro/acc of a sensor whose orientation (sensor→world) is ``q`` at times ``t``.

    Gyro sample k is the mean rate over [t_k, t_k+1] (what an integrating filter needs);
    acc is gravity only (no linear acceleration).
    """
    dq = Q.multiply(Q.conj(q[:-1]), q[1:])
    dq = np.where(dq[:, :1] < 0, -dq, dq)
    ang = 2 * np.arctan2(np.linalg.norm(dq[:, 1:], axis=1), dq[:, 0])
    nrm = np.linalg.norm(dq[:, 1:], axis=1, keepdims=True)
    axis = np.divide(dq[:, 1:], nrm, out=np.zeros_like(dq[:, 1:]), where=nrm > 0)
    gyr = axis * (ang / np.diff(t))[:, None]
    gyr = np.vstack((gyr, gyr[-1:]))
    acc = Q.rotate(Q.conj(q), np.array([0.0, 0.0, 9.81]))
    return ImuBlock(sensor, t, acc, gyr)


def smooth_step(t: np.ndarray, t0: float, t1: float) -> np.ndarray:
    """0 before t0, 1 after t1, minimum-jerk in between (the simulator's profile)."""
    return min_jerk((t - t0) / (t1 - t0))


def two_sensor_move(
    target_rel: np.ndarray,
    *,
    rate: float = 200.0,
    still_s: float = 4.0,
    move_s: float = 1.0,
    hold_s: float = 1.0,
    t0: float = 500.0,
    lumbar_pose: np.ndarray | None = None,
    mount_t: np.ndarray | None = None,
    mount_l: np.ndarray | None = None,
) -> tuple[dict[str, ImuBlock], float]:
    """Stand still, then move the thoracic segment to ``target_rel`` relative to lumbar.

    Returns raw blocks and the time at the end of the hold.
    """
    n = int((still_s + move_s + hold_s) * rate)
    t = t0 + np.arange(n) / rate
    s = smooth_step(t, t0 + still_s, t0 + still_s + move_s)
    q_l = np.tile(Q_UP if lumbar_pose is None else lumbar_pose, (n, 1))
    q_rel = Q.slerp(np.tile([1.0, 0, 0, 0], (n, 1)), np.tile(target_rel, (n, 1)), s)
    q_t = Q.multiply(q_l, q_rel)
    ident = np.array([1.0, 0, 0, 0])
    m_t = ident if mount_t is None else mount_t
    m_l = ident if mount_l is None else mount_l
    raw = {
        "thoracic": imu_from_quats("thoracic", t, Q.multiply(q_t, m_t)),
        "lumbar": imu_from_quats("lumbar", t, Q.multiply(q_l, m_l)),
    }
    return raw, float(t[-1])
