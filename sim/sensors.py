"""Sensor signals and ground truth for the wearer simulator, from a movement script.

See :mod:`sim.movement` for the model and :func:`sim.wearer.simulate` for the entry point.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from posture import quat as Q
from posture.angles import angles_from_relative, quat_from_zxy, sagittal_inclination
from posture.records import LUMBAR, THORACIC, AngleBlock, ImuBlock
from sim.movement import (
    FINE_HZ,
    PHASES,
    Q_UP,
    G,
    Rep,
    Script,
    SimConfig,
    Wearer,
    channels,
    min_jerk,
    span,
)

F64 = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Truth:
    """Ground truth on the lumbar sensor's kept sample times (deg; see AngleBlock)."""

    t: F64
    flexion: F64
    lateral_flexion: F64
    rotation: F64
    thoracic_inclination: F64
    lumbar_inclination: F64
    hip_angle: F64
    under_load: NDArray[np.bool_]
    phase: NDArray[np.int8]
    q_thoracic_seg: F64
    q_lumbar_seg: F64
    reps: list[Rep] = field(default_factory=list)
    sets: list[tuple[float, float]] = field(default_factory=list)
    neutral_flexion_from_standing_deg: float = 0.0

    def angle_block(self) -> AngleBlock:
        n = self.t.size
        return AngleBlock(
            self.t,
            self.flexion,
            self.lateral_flexion,
            self.rotation,
            self.thoracic_inclination,
            self.lumbar_inclination,
            self.hip_angle,
            np.ones(n),
            np.zeros(n, np.uint8),
        )


@dataclass(frozen=True, eq=False)
class SimResult:
    raw: dict[str, ImuBlock]
    truth: Truth
    mounts: dict[str, F64]
    config: SimConfig
    wearer: Wearer


def _mounts(cfg: SimConfig) -> dict[str, F64]:
    # Nominal: sensor +Y up along the spine, sensor +Z out of the back (segment −X), sensor +X
    # to the wearer's right. Rows are the segment axes in sensor coordinates (sensor→segment).
    nominal = Q.from_matrix(np.array([[0.0, 0, -1], [0, 1, 0], [1, 0, 0]]))
    out = {}
    rng = np.random.default_rng([cfg.seed, 2])
    for role in (THORACIC, LUMBAR):
        if cfg.mounting == "nominal" or cfg.ideal:
            out[role] = nominal
            continue
        spin = Q.from_axis_angle(np.array([0.0, 0, 1]), rng.uniform(-np.pi, np.pi))  # skin normal
        tilt_axis = np.array([rng.normal(), rng.normal(), 0.0])
        tilt = Q.from_axis_angle(tilt_axis, np.radians(rng.uniform(0, 15)))
        out[role] = Q.normalize(Q.multiply(nominal, Q.multiply(spin, tilt)))
    return out


def _wobble(t: F64, acc_mag: F64, deg: float, rng: np.random.Generator) -> F64:
    if deg <= 0:
        return np.tile([1.0, 0, 0, 0], (t.size, 1))
    from scipy.signal import butter, sosfiltfilt

    sos = butter(2, [8.0, 15.0], btype="band", fs=FINE_HZ, output="sos")
    v = sosfiltfilt(sos, rng.normal(size=(t.size, 3)), axis=0)
    v /= np.sqrt(np.mean(v**2)) + 1e-12
    env = np.clip(acc_mag / G, 0, 3)  # tissue rings when the segment accelerates
    rv = np.radians(deg) * v * env[:, None]
    ang = np.linalg.norm(rv, axis=1)
    return Q.from_axis_angle(np.where(ang[:, None] > 0, rv, [1.0, 0, 0]), ang)


def _omega_body(q: F64, dt: float) -> F64:
    dq = Q.multiply(Q.conj(q[:-1]), q[1:])
    dq = np.where(dq[:, :1] < 0, -dq, dq)
    w_mid = 2.0 * dq[:, 1:] / dt  # small-angle, at midpoints
    w = np.empty((q.shape[0], 3))
    w[1:-1] = 0.5 * (w_mid[1:] + w_mid[:-1])
    w[0], w[-1] = w_mid[0], w_mid[-1]
    return w


def _acc_errors(cfg: SimConfig, role: str, rec: np.random.Generator) -> tuple[F64, F64]:
    """Accelerometer scale (factor) and bias (m/s²) per axis, ``(3,)`` each.

    The sensor's own part comes from a stream keyed by seed and role only, so the same
    physical sensor carries it into every recording (calibration, table calibration,
    session); ``rec`` (this recording's stream) adds the smaller turn-on part.
    """
    dev = np.random.default_rng([cfg.seed, 9, len(role)])
    scale = 1.0 + dev.uniform(-cfg.acc_scale_error, cfg.acc_scale_error, 3)
    bias = dev.uniform(-cfg.acc_bias, cfg.acc_bias, 3)
    scale = scale + rec.uniform(-cfg.acc_scale_turn_on, cfg.acc_scale_turn_on, 3)
    bias = bias + rec.uniform(-cfg.acc_bias_turn_on, cfg.acc_bias_turn_on, 3)
    return scale, bias


def sensor_faults(
    cfg: SimConfig, role: str, gyr: F64, acc: F64, rate: float, key: list[int]
) -> tuple[F64, F64]:
    """Gyro bias, bias walk and noise, accelerometer scale, bias and noise on one recording
    of one sensor (``(N, 3)`` each); ``key`` seeds this recording's own random stream."""
    n = gyr.shape[0]
    r = np.random.default_rng(key)
    bias = r.uniform(-cfg.gyr_bias, cfg.gyr_bias, 3)
    walk = np.cumsum(r.normal(0, cfg.gyr_bias_drift * np.sqrt(1.0 / rate), (n, 3)), axis=0)
    gyr = gyr + bias + walk + r.normal(0, cfg.gyr_noise, (n, 3))
    scale, acc_bias = _acc_errors(cfg, role, r)
    return gyr, acc * scale + acc_bias + r.normal(0, cfg.acc_noise, (n, 3))


def acc_fault_truth(cfg: SimConfig, role: str, n: int, rate: float) -> tuple[F64, F64]:
    """The accelerometer scale and bias ``(3,)`` that :func:`sensor_faults` drew for a
    recording of ``n`` samples (before drops) of ``role`` at ``rate`` (benchmarks compare
    estimates with them)."""
    r = np.random.default_rng([cfg.seed, 6, len(role)])
    r.uniform(-cfg.gyr_bias, cfg.gyr_bias, 3)  # the same draws as sensor_faults, in order
    r.normal(0, cfg.gyr_bias_drift * np.sqrt(1.0 / rate), (n, 3))
    r.normal(0, cfg.gyr_noise, (n, 3))
    return _acc_errors(cfg, role, r)


def gyr_bias_truth(cfg: SimConfig, role: str, n: int, rate: float) -> F64:
    """The gyro bias (turn-on bias plus random walk, rad/s, ``(n, 3)``) that
    :func:`sensor_faults` drew for a recording of ``n`` samples (before drops) of ``role``
    at ``rate`` (diagnostics remove it to see what the bias estimate costs)."""
    r = np.random.default_rng([cfg.seed, 6, len(role)])
    bias = r.uniform(-cfg.gyr_bias, cfg.gyr_bias, 3)  # the same draws as sensor_faults
    return bias + np.cumsum(r.normal(0, cfg.gyr_bias_drift * np.sqrt(1.0 / rate), (n, 3)), 0)


def render(sc: Script, cfg: SimConfig, wearer: Wearer) -> SimResult:
    """Both sensors' raw data and the ground truth of a built :class:`Script`."""
    t0_true = 1000.0 + 10.0 * cfg.seed
    dur = sc.duration
    tf = np.arange(int(dur * FINE_HZ) + 2) / FINE_HZ
    ch = channels(sc, tf)
    yaw = Q.yaw_quat(np.radians(ch["heading"]))
    q_l = Q.multiply(
        yaw,
        Q.multiply(
            Q_UP,
            quat_from_zxy(np.radians(-ch["pelvis_pitch"]), np.radians(ch["pelvis_roll"]), 0.0 * tf),
        ),
    )
    q_rel = quat_from_zxy(np.radians(-ch["flex"]), np.radians(ch["lat"]), np.radians(ch["rot"]))
    q_t = Q.multiply(q_l, q_rel)
    # Hip centre: walking moves forward along the heading with a vertical bob.
    speed = np.zeros_like(tf)
    for a, b in sc.walks:
        # Smooth (minimum-jerk) speed ramps: a linear ramp's kinks put 1-ms acceleration
        # spikes into the bob term, which drove the wobble into unphysical gyro spikes.
        w = span(tf, min(a, b - 1.0), max(a + 1.0, b))  # zero outside
        speed[w] += 1.2 * (min_jerk((tf[w] - a) / 1.0) - min_jerk((tf[w] - b + 1.0) / 1.0))
    head = np.radians(ch["heading"])
    dtf = 1.0 / FINE_HZ
    hip = np.column_stack(
        (
            np.cumsum(speed * np.cos(head)) * dtf,
            np.cumsum(speed * np.sin(head)) * dtf,
            0.9 + 0.03 * (speed / 1.2) * np.sin(2 * np.pi * 1.8 * tf) - ch["hip_drop"],
        )
    )
    hip[:, 0] -= 0.1 * np.sin(np.radians(ch["pelvis_pitch"]))  # hips travel back in a hinge
    p_l = hip + Q.rotate(q_l, np.array([-0.12, 0.10, 0.0]))
    joint = hip + Q.rotate(q_l, np.array([-0.05, 0.12, 0.0]))
    p_t = joint + Q.rotate(q_t, np.array([-0.10, 0.22, 0.0]))
    mounts = _mounts(cfg)
    raw: dict[str, ImuBlock] = {}
    kept_l = None
    for role, q_seg, pos in ((LUMBAR, q_l, p_l), (THORACIC, q_t, p_t)):
        a_world = np.gradient(np.gradient(pos, dtf, axis=0), dtf, axis=0)
        wob = _wobble(
            tf,
            np.linalg.norm(a_world, axis=1),
            0.0 if cfg.ideal else cfg.wobble_deg,
            np.random.default_rng([cfg.seed, 5, len(role)]),
        )
        q_s = Q.normalize(Q.multiply(Q.multiply(q_seg, mounts[role]), wob))
        gyr_f = _omega_body(q_s, dtf)
        acc_f = Q.rotate(Q.conj(q_s), a_world + np.array([0.0, 0.0, G]))
        rate = cfg.rate_of(role)
        n = int((dur - 0.01) * rate)
        k = np.arange(n)
        if role == THORACIC:
            # A shared clock stamps both sensors from one time base: no offset, no drift.
            faulty = not cfg.ideal and cfg.clock == "separate"
            drift = cfg.clock_drift_ppm * 1e-6 if faulty else 0.0
            off = cfg.clock_offset_s if faulty else 0.0
            clock = off + (1.0 + drift) * t0_true + k / rate
            t_true = (clock - off) / (1.0 + drift) - t0_true
        else:
            clock = t0_true + k / rate
            t_true = k / rate
        t_true = np.clip(t_true, 0, tf[-1])
        gyr = np.column_stack([np.interp(t_true, tf, gyr_f[:, i]) for i in range(3)])
        acc = np.column_stack([np.interp(t_true, tf, acc_f[:, i]) for i in range(3)])
        if not cfg.ideal:
            gyr, acc = sensor_faults(cfg, role, gyr, acc, rate, [cfg.seed, 6, len(role)])
        keep = np.ones(n, dtype=bool)
        ts = clock.copy()
        if not cfg.ideal and cfg.drop_prob > 0:
            keep = np.random.default_rng([cfg.seed, 7, len(role)]).random(n) >= cfg.drop_prob
            keep[[0, -1]] = True
        if not cfg.ideal and cfg.timestamp_jitter_s > 0:
            ts = ts + np.random.default_rng([cfg.seed, 8, len(role)]).normal(
                0, cfg.timestamp_jitter_s, n
            )
            ts = np.maximum.accumulate(ts + np.arange(n) * 1e-9)
        raw[role] = ImuBlock(role, ts[keep], acc[keep], gyr[keep], None, k[keep])
        if role == LUMBAR:
            kept_l = t_true[keep]
    assert kept_l is not None
    truth = _truth(sc, wearer, tf, ch, q_l, q_t, kept_l, t0_true)
    return SimResult(raw, truth, mounts, cfg, wearer)


def _truth(
    sc: Script, w: Wearer, tf: F64, ch: dict[str, F64], q_l: F64, q_t: F64, t_true: F64, t0: float
) -> Truth:
    def at(a: F64) -> F64:
        return np.interp(t_true, tf, a)

    q_rel = quat_from_zxy(
        np.radians(-at(ch["flex"])), np.radians(at(ch["lat"])), np.radians(at(ch["rot"]))
    )
    neutral = quat_from_zxy(np.radians(-w.neutral_from_standing), 0.0, 0.0)
    flex, lat, rot = angles_from_relative(q_rel, neutral)
    idx = np.clip(np.rint(t_true * FINE_HZ).astype(int), 0, tf.size - 1)
    ql, qt = q_l[idx], q_t[idx]
    incl_l = sagittal_inclination(ql)
    load = np.zeros(t_true.size, bool)
    for a, b in sc.loads:
        load |= (t_true >= a) & (t_true <= b)
    phase = np.zeros(t_true.size, np.int8)
    for a, b, name in sc.phases:
        phase[(t_true >= a) & (t_true < b)] = PHASES.index(name)
    reps = [
        Rep(
            r["start_s"] + t0,
            r["bottom_s"] + t0,
            r["end_s"] + t0,
            r["peak_flexion_deg"],
            r["hip_share"],
            r["set_index"],
            r["rounded"],
            r.get("kind", "lift"),
            r.get("loaded", True),
        )
        for r in sc.reps
    ]
    return Truth(
        t_true + t0,
        flex,
        lat,
        rot,
        sagittal_inclination(qt),
        incl_l,
        incl_l.copy(),
        load,
        phase,
        qt,
        ql,
        reps,
        [(a + t0, b + t0) for a, b in sc.sets],
        w.neutral_from_standing,
    )
