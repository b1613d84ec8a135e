"""Functional calibration from quiet standing followed by cat-cow cycles.

One recording: about 5 s of quiet standing, then at least three slow cat-cow cycles (round
the back fully, then arch it fully; standing with hands on knees or on all fours, rounding
first). From it, per sensor:

* **vertical**: the accelerometer's mean direction while standing (segment +Y);
* **flexion axis**: the principal axis of the angular rate during cat-cow (segment ±Z);
* **front/back**: during cat-cow the trunk leans forward (hands on knees or on all fours), so
  gravity's mean direction moves toward the segment's back; that fixes the sign of the axis.

Sensors may therefore be strapped on at any angle. Then, from the relative orientation of the
two segments: the fullest flexion and extension reached, and **neutral = the posture halfway
between them** (lateral flexion and rotation zero as in the standing pose).

Every way a recording can be unusable raises :class:`CalibrationError` with what to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from calibration.catcow import CatCow, cat_cow, moving_mean
from calibration.field_acc import FieldSettings
from calibration.profile import DEFAULT_RANGES, CalibrationError, CalibrationProfile
from posture import angles as A
from posture import quat as Q
from posture import scalar_math as S
from posture.acc_correction import AccCorrection, correct_raw
from posture.alignment import ClockMap, choose_clock, interpolate_orientation
from posture.constants import G
from posture.errors import MissingSensorError
from posture.fusion import sensor_lever_arm
from posture.offline_fusion import fuse_offline
from posture.records import LUMBAR, ROLES, THORACIC, ImuBlock
from posture.runs import true_runs

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class CalibrationSettings:
    """Thresholds of the functional calibration.

    Attributes:
        min_standing_s: shortest quiet standing accepted, s.
        still_gyr: angular rate below which a sensor counts as still, rad/s (0.5 s mean).
        still_acc: |‖acc‖ − g| below which a sensor counts as still, m/s².
        min_cycles: cat-cow cycles required.
        min_range_deg: smallest flexion–extension range accepted, deg.
        min_prominence_deg: how far a flexion/extension peak must stand out, deg.
        min_lean_deg: smallest mean forward lean during cat-cow that fixes front/back, deg.
        expected_up: per role, the sensor axis that should point up when strapped as the
            sensor's instructions say (``None``: any mounting accepted).
        field_acc: settings of the in-field accelerometer calibration whose data the profile
            keeps when no table calibration is given (:mod:`calibration.field_session`;
            ``None``: no field data, batch analysis uses the accelerometers as read).
    """

    min_standing_s: float = 3.0
    still_gyr: float = 0.12
    still_acc: float = 0.6
    min_cycles: int = 3
    min_range_deg: float = 15.0
    min_prominence_deg: float = 8.0
    min_lean_deg: float = 8.0
    expected_up: Mapping[str, tuple[float, float, float]] | None = None
    field_acc: FieldSettings | None = FieldSettings()


def _runs(mask: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """Start/stop (exclusive) index pairs of True runs."""
    return list(zip(*true_runs(mask), strict=True))


def _still(block: ImuBlock, rate: float, s: CalibrationSettings) -> NDArray[np.bool_]:
    n = max(1, int(0.5 * rate))
    gyr = moving_mean(np.linalg.norm(block.gyr, axis=1), n)
    acc = moving_mean(np.abs(np.linalg.norm(block.acc, axis=1) - G), n)
    return (gyr < s.still_gyr) & (acc < s.still_acc)


def _find_standing(
    raw: Mapping[str, ImuBlock], rates: Mapping[str, float], s: CalibrationSettings
) -> tuple[float, float]:
    """The first quiet standing window (lumbar clock), checked per sensor."""
    lum, tho = raw[LUMBAR], raw[THORACIC]
    still_l = _still(lum, rates[LUMBAR], s)
    still_t = np.interp(lum.t, tho.t, _still(tho, rates[THORACIC], s).astype(float)) > 0.5
    both = still_l & still_t
    # The standing phase comes first: a quiet run counts only if the cat-cow follows it.
    latest_end = lum.t[-1] - 10.0

    def usable(a: int, b: int) -> bool:
        return bool(lum.t[b - 1] - lum.t[a] >= s.min_standing_s and lum.t[b - 1] <= latest_end)

    for a, b in _runs(both):
        if usable(a, b):
            return float(lum.t[a]), float(lum.t[b - 1])
    # Explain which sensor spoiled it.
    for name, mine, other in (("thoracic", still_t, still_l), ("lumbar", still_l, still_t)):
        for a, b in _runs(other):
            if usable(a, b):
                share = 1.0 - float(np.mean(mine[a:b]))
                raise CalibrationError(
                    f"the {name} sensor was moving during the standing phase ({share:.0%} of "
                    f"it) while the other sensor was still: check that it is strapped tight, "
                    f"then stand still for 5 s at the start and record again"
                )
    raise CalibrationError(
        f"no quiet standing of at least {s.min_standing_s:.0f} s found: start the recording "
        "by standing still and upright for about 5 s, then do the cat-cow cycles"
    )


def _axis_frame(up: F64, axis: F64, lean: F64) -> tuple[F64, float]:
    """Sensor→segment quaternion from up (Y), flexion axis (±Z) and the forward lean.

    ``lean`` is the standing up direction minus the mean up direction while leaning forward
    (both in sensor axes): leaning forward moves gravity toward the back, so this difference
    points to the front.

    Returns the quaternion and how far (deg) the lean fixed front/back.
    """
    y = up / np.linalg.norm(up)
    z = axis - np.dot(axis, y) * y
    z /= np.linalg.norm(z)
    front = lean - np.dot(lean, y) * y
    lean_deg = float(np.degrees(np.arcsin(min(1.0, float(np.linalg.norm(front))))))
    # X forward × Y up = Z right: pick the sign of the axis that matches the lean.
    if np.dot(np.cross(front, y), z) < 0:
        z = -z
    x = np.cross(y, z)
    rows = np.vstack((x, y, z))  # segment axes in sensor coordinates → R(sensor→segment)
    return Q.from_matrix(rows), lean_deg


def calibrate(
    raw: Mapping[str, ImuBlock],
    settings: CalibrationSettings | None = None,
    sensor_ids: Mapping[str, str] | None = None,
    acc_correction: Mapping[str, AccCorrection] | None = None,
) -> CalibrationProfile:
    """Calibrate from one standing + cat-cow recording.

    Phases: check the recording, align the thoracic clock, find the quiet standing, fix each
    sensor's mounting from standing and cat-cow, trace the flexion of the cat-cow cycles, and
    put neutral halfway between the fullest flexion and extension.

    Args:
        raw: role → raw block (thoracic on its own clock; the offset is estimated here).
        settings: thresholds.
        sensor_ids: role → sensor id to record in the profile.
        acc_correction: role → the sensor's accelerometer correction from its table
            calibration (:mod:`calibration.sensor_table`): applied to ``raw`` before anything
            else and kept in the profile, so analysis and live apply it too. Without it, the
            profile keeps this recording's rest poses and sensitivities (``field_acc``), from
            which batch analysis fits an in-field correction together with the session's
            rest poses (:func:`calibration.field_session.profile_for_session`).

    Raises:
        CalibrationError: the recording cannot be used; the message says why and what to do.
    """
    s = settings or CalibrationSettings()
    corr = {r: c for r, c in (acc_correction or {}).items() if r in ROLES}
    # The 12 re-calibrations of the field data each change one sensor's accelerometer: the
    # clock fit (gyro only) and the other sensor's mounting and fusion are reused.
    cache: dict[Any, Any] = {}
    profile = _calibrate(raw, s, sensor_ids, corr, cache)
    if corr or s.field_acc is None:
        return profile
    from calibration.field_session import field_data

    try:
        fd = field_data(
            {r: raw[r] for r in ROLES},
            profile,
            lambda c: _calibrate(raw, s, sensor_ids, c, cache),
            s.field_acc,
        )
    except CalibrationError:  # a borderline recording: the profile is fine without field data
        return profile
    return replace(profile, field_acc=fd)


def _calibrate(
    raw: Mapping[str, ImuBlock],
    s: CalibrationSettings,
    sensor_ids: Mapping[str, str] | None,
    corr: dict[str, AccCorrection],
    cache: dict[Any, Any] | None = None,
) -> CalibrationProfile:
    """:func:`calibrate` with the accelerometer corrections ``corr`` (role → correction).

    ``cache`` (filled by a call without corrections, then read): the clock map and each
    uncorrected sensor's mounting, reused by calls that correct the other sensor only."""
    duration = _check_recording(raw)
    raw = {r: b for r, b in correct_raw(raw, corr).items() if isinstance(b, ImuBlock)}
    lum, tho = raw[LUMBAR], raw[THORACIC]
    rates = {r: raw[r].nominal_rate() for r in ROLES}
    clock = cache["clock"] if cache and "clock" in cache else choose_clock(lum, tho, "auto")
    tho_l = ImuBlock(THORACIC, clock.to_lumbar(tho.t), tho.acc, tho.gyr, tho.mag)
    aligned = {LUMBAR: lum, THORACIC: tho_l}
    standing = _find_standing(aligned, rates, s)
    quality: dict[str, float] = {}
    mounts = {}
    for r in ROLES:
        key = (r, standing)
        if cache is not None and r not in corr and key in cache:
            mounts[r], q = cache[key]
            quality.update(q)
        else:
            q = {}
            mounts[r] = _mounting(r, aligned[r], standing, rates[r], s, q)
            quality.update(q)
            if cache is not None and not corr:
                cache[key] = (mounts[r], q)
    if cache is not None and not corr:
        cache["clock"] = clock
    _check_leans({r: m.lean_deg for r, m in mounts.items()}, s, quality)
    t_l, flex, q_stand = _flexion_trace(aligned, mounts, standing, rates)
    cc = cat_cow(flex[t_l > standing[1]], rates[LUMBAR], s, quality)
    # Neutral: standing pose rotated by the midpoint flexion (flexion = −Z rotation).
    q_neutral = Q.multiply(q_stand, A.quat_from_zxy(np.radians(-cc.mid), 0.0, 0.0))
    info = _info(duration, rates, standing, cc, clock, mounts)
    score = float(np.clip(np.mean(list(quality.values())) * min(quality.values()) ** 0.25, 0, 1))
    quality["clock_alignment"] = float(clock.quality)  # informational: not in the score
    half = 0.5 * (cc.fmax - cc.fmin)
    return CalibrationProfile(
        sensor_ids=dict(sensor_ids or {r: r for r in ROLES}),
        mount_thoracic=S.as_quat(mounts[THORACIC].quat),
        mount_lumbar=S.as_quat(mounts[LUMBAR].quat),
        neutral=S.as_quat(Q.normalize(q_neutral)),
        ranges={"flexion": (-half, half), **DEFAULT_RANGES},
        measured_planes=("flexion",),
        standing_flexion_deg=float(-cc.mid),
        quality=score,
        quality_components={k: round(v, 3) for k, v in quality.items()},
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        info=info,
        acc_correction=corr or None,
    )


def _info(
    duration: float,
    rates: Mapping[str, float],
    standing: tuple[float, float],
    cc: CatCow,
    clock: ClockMap,
    mounts: Mapping[str, _Mounting],
) -> dict[str, Any]:
    """Recording facts kept in the profile's ``info``."""
    return {
        "duration_s": round(duration, 3),
        "rates_hz": {r: round(v, 3) for r, v in rates.items()},
        "standing_window_s": [round(standing[0], 3), round(standing[1], 3)],
        "cycles": int(cc.cycles),
        "flexion_from_standing_deg": [round(cc.fmin, 2), round(cc.fmax, 2)],
        "clock_offset_s": round(clock.offset_s, 5),
        "clock_drift_ppm": round(clock.drift_ppm, 2),
        "forward_lean_deg": {r: round(m.lean_deg, 1) for r, m in mounts.items()},
    }


def _check_recording(raw: Mapping[str, ImuBlock]) -> float:
    """Both sensors present and the recording long enough; returns its duration, s."""
    for role in ROLES:
        if role not in raw or len(raw[role]) < 2:
            raise MissingSensorError(
                f"no {role} samples in the calibration recording: both sensors must stream"
            )
    lum = raw[LUMBAR]
    duration = float(lum.t[-1] - lum.t[0])
    if duration < 15.0:
        raise CalibrationError(
            f"recording too short ({duration:.1f} s): record about 5 s of quiet standing, then "
            "at least three slow cat-cow cycles (about 30–40 s in all)"
        )
    return duration


@dataclass(frozen=True)
class _Mounting:
    """One sensor's mounting (sensor → segment quaternion ``(4,)``), the forward lean during
    cat-cow that fixed front/back (deg) and its offline-fused orientations (t, ``(N, 4)``)."""

    quat: F64
    lean_deg: float
    t: F64
    fused: F64


_MARGIN_S = 0.25  # trimmed from both ends of the standing window


def _mounting(
    role: str,
    b: ImuBlock,
    standing: tuple[float, float],
    rate: float,
    s: CalibrationSettings,
    quality: dict[str, float],
) -> _Mounting:
    """Up from standing, the flexion axis from the cat-cow rates, front from the lean."""
    t0, t1 = standing
    stand = (b.t >= t0 + _MARGIN_S) & (b.t <= t1 - _MARGIN_S)
    up = b.acc[stand].mean(axis=0)
    bias = b.gyr[stand].mean(axis=0)
    stand_noise = float(np.degrees(np.sqrt(np.mean(np.sum((b.gyr[stand] - bias) ** 2, 1)))))
    quality[f"{role}_stillness"] = float(np.clip(1.5 - stand_noise / 2.0, 0.0, 1.0))
    _check_upright(role, up, s)
    after = b.t > t1
    w = b.gyr[after] - bias
    moving = np.linalg.norm(w, axis=1) > 0.05  # rad/s, well above gyro noise
    if moving.sum() < rate * 3:
        raise CalibrationError(
            f"almost no movement of the {role} sensor after standing: do at least three "
            "slow cat-cow cycles (round the back fully, then arch it fully)"
        )
    evals, evecs = np.linalg.eigh(w[moving].T @ w[moving])
    axis = evecs[:, -1]
    quality[f"{role}_planarity"] = float(np.clip((evals[-1] / evals.sum() - 0.5) / 0.4, 0, 1))
    quality[f"{role}_axis_horizontal"] = float(1.0 - abs(np.dot(axis, up / np.linalg.norm(up))))
    acc_after = b.acc[after][moving]
    mean_dir = (acc_after / np.linalg.norm(acc_after, axis=1, keepdims=True)).mean(axis=0)
    mount, lean = _axis_frame(up, axis, up / np.linalg.norm(up) - mean_dir)
    # Offline VQF: gyro bias from the standing at both ends, so the cat-cow extremes (and
    # the neutral halfway between them) carry less heading drift between the filters. The
    # swing of each sensor in the cat-cow is compensated as in the live engine (about the
    # hinge centre of fusion.LEVER_ARMS_M, in this mounting's sensor axes): uncompensated, it
    # pulled the fullest flexion ≈ 0.09° up and the neutral with it (docs/load.md).
    ob = fuse_offline(b, rate, lever_arm=sensor_lever_arm(role, mount))
    return _Mounting(mount, lean, ob.t, ob.quat)


def _check_upright(role: str, up: F64, s: CalibrationSettings) -> None:
    if s.expected_up and role in s.expected_up:
        exp = np.asarray(s.expected_up[role], dtype=float)
        if np.dot(up / np.linalg.norm(up), exp / np.linalg.norm(exp)) < -0.5:
            raise CalibrationError(
                f"the {role} sensor is upside down (its up axis points down while you "
                "stand): turn it over, strap it on as shown in the sensor's instructions "
                "and record again"
            )


def _check_leans(
    leans: Mapping[str, float], s: CalibrationSettings, quality: dict[str, float]
) -> None:
    weak = [r for r in ROLES if leans[r] < s.min_lean_deg]
    if weak:
        raise CalibrationError(
            f"cannot tell front from back for the {' and '.join(weak)} sensor: during cat-cow "
            "keep the trunk leaning forward (hands on knees, or on all fours) and record again"
        )
    quality["forward_lean"] = float(np.clip(min(leans.values()) / 20.0, 0.0, 1.0))


def _flexion_trace(
    aligned: Mapping[str, ImuBlock],
    mounts: Mapping[str, _Mounting],
    standing: tuple[float, float],
    rates: Mapping[str, float],
) -> tuple[F64, F64, F64]:
    """Flexion from standing (deg) over the recording on the lumbar stamps, with the standing
    pose (thoracic in lumbar, ``(4,)``) it is measured from: ``(t, flexion, q_stand)``."""
    lm, tm = mounts[LUMBAR], mounts[THORACIC]
    q_ts, valid = interpolate_orientation(tm.t, tm.fused, lm.t)
    t_l, q_ls, q_ts = lm.t[valid], lm.fused[valid], q_ts[valid]
    q_l, q_t = A.segment_quats(q_ls, q_ts, A.SpineModel(tm.quat, lm.quat))
    t0, t1 = standing
    stand = (t_l >= t0 + _MARGIN_S) & (t_l <= t1 - _MARGIN_S)
    guess = A.heading_of_right_axis(q_l[stand]) - A.heading_of_right_axis(q_t[stand])
    delta_s = A.rezero_delta(q_l[stand], q_t[stand], A.IDENTITY, guess)
    delta = float(np.angle(np.mean(np.exp(1j * delta_s))))
    q_rel = A.relative(q_l, q_t, np.full(t_l.size, delta))
    q_stand = Q.normalize(np.mean(np.where(q_rel[stand, :1] < 0, -q_rel[stand], q_rel[stand]), 0))
    flex, _lat, _rot = A.angles_from_relative(q_rel, q_stand)
    return t_l, flex, q_stand
