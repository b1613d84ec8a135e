"""One-time accelerometer calibration of each sensor on a table (bias and scale per axis).

The user rests the sensor (or both sensors taped together) on each of its six faces for a few
seconds, turning it by hand in between, as in ArduPilot's accelerometer calibration. While
the sensor rests, it measures gravity only, so ``|(a_raw − bias) / scale| = g`` in every pose:
a least-squares fit of the 6 unknowns over the resting poses (scipy's ``least_squares``).

Bias and scale of an axis can be told apart only if that axis saw gravity both ways (pointing
up and pointing down); a pose set that misses a face is refused with the face to add, never
fitted into a plausible-looking wrong answer. (A sphere fit on the poses of a wearer's
cat-cow — all in one plane — was tried: it made the neutral worse.)

The result is stored per sensor id in a small JSON file (:func:`save_sensor_calibration`,
schema ``SENSOR_SCHEMA_VERSION``) and copied into the wearer's profile by
:func:`calibration.calibrate`, which applies it before everything else; from the profile it
reaches batch analysis, re-analysis and live (``SpineModel.acc_correction``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from calibration.profile import CalibrationError
from posture.acc_correction import AccCorrection
from posture.constants import G
from posture.errors import PostureError
from posture.jsonsafe import dumps_json
from posture.records import ImuBlock
from posture.runs import true_runs

F64 = NDArray[np.float64]
SENSOR_SCHEMA_VERSION = 1
_KIND = "spinewatch-sensor-calibration"
_FACES = ("+X", "+Y", "+Z")


@dataclass(frozen=True)
class TableSettings:
    """Thresholds of the table calibration.

    Attributes:
        still_gyr: mean angular rate below which the sensor rests, rad/s (1-s window).
        still_acc_std: spread of the acceleration below which it rests, m/s² (1-s window).
        min_pose_s: shortest rest that counts as a pose, s.
        min_poses: resting poses required.
        min_axis_g: every axis must have pointed at least this far up and down, in g
            (cos 45° ≈ 0.7: a face within 45° of level).
        max_residual: largest RMS misfit of ``|a| = g`` accepted, m/s².
    """

    still_gyr: float = 0.1
    still_acc_std: float = 0.1
    min_pose_s: float = 2.0
    min_poses: int = 6
    min_axis_g: float = 0.7
    max_residual: float = 0.1


def _moving(x: F64, n: int) -> F64:
    """Centred moving mean over ``n`` samples of ``(N,)`` or ``(N, k)``, edges held."""
    k = np.ones(n) / n
    pad = (n // 2, n - 1 - n // 2)
    if x.ndim == 1:
        return np.convolve(np.pad(x, pad, mode="edge"), k, mode="valid")
    return np.column_stack([_moving(x[:, i], n) for i in range(x.shape[1])])


def resting_poses(block: ImuBlock, s: TableSettings | None = None) -> F64:
    """Mean accelerometer reading of each resting pose, m/s², ``(P, 3)``.

    A pose is a run of at least ``min_pose_s`` where the angular rate and the spread of the
    acceleration stay small (1-s windows); 0.25 s are trimmed from both ends of a run.
    """
    s = s or TableSettings()
    if len(block) < 2:
        return np.zeros((0, 3))
    rate = block.nominal_rate()
    n = max(3, int(rate))
    gyr = _moving(np.linalg.norm(block.gyr, axis=1), n)
    mean = _moving(block.acc, n)
    spread = np.sqrt(np.maximum(_moving(block.acc**2, n) - mean**2, 0.0).sum(axis=1))
    still = (gyr < s.still_gyr) & (spread < s.still_acc_std)
    trim = int(0.25 * rate)
    poses = []
    for a, b in zip(*true_runs(still), strict=True):
        if block.t[b - 1] - block.t[a] >= s.min_pose_s:
            poses.append(block.acc[a + trim : b - trim].mean(axis=0))
    return np.array(poses).reshape(-1, 3)


def _missing_faces(poses: F64, min_g: float) -> list[str]:
    u = poses / np.linalg.norm(poses, axis=1, keepdims=True)
    missing = []
    for i, face in enumerate(_FACES):
        if u[:, i].max() < min_g:
            missing.append(face)
        if u[:, i].min() > -min_g:
            missing.append("-" + face[1])
    return missing


def fit_poses(poses: F64, s: TableSettings | None = None, sensor: str = "sensor") -> AccCorrection:
    """Bias (m/s²) and scale per axis from resting poses ``(P, 3)`` (m/s², raw).

    Raises:
        CalibrationError: too few poses, a face never pointed up (bias and scale of that
            axis cannot be told apart), or the poses do not fit ``|a| = g``.
    """
    s = s or TableSettings()
    poses = np.asarray(poses, dtype=np.float64).reshape(-1, 3)
    missing = _missing_faces(poses, s.min_axis_g) if poses.shape[0] else []
    if missing:
        raise CalibrationError(
            f"{sensor}: the sensor never rested with its {', '.join(missing)} axis pointing "
            "up, so bias and scale of that axis cannot be told apart: rest it on each of its "
            "six faces (every axis once up, once down) for about 5 s and record again"
        )
    if poses.shape[0] < s.min_poses:
        raise CalibrationError(
            f"{sensor}: only {poses.shape[0]} resting poses found ({s.min_poses} needed): "
            "rest the sensor on each of its six faces for about 5 s, turning it by hand in "
            "between, and record again"
        )
    from scipy.optimize import least_squares  # heavy: only when calibrating a sensor

    def resid(p: F64) -> F64:
        return np.linalg.norm((poses - p[:3]) / p[3:], axis=1) - G

    sol = least_squares(resid, np.r_[np.zeros(3), np.ones(3)], x_scale=np.r_[[0.1] * 3, [0.01] * 3])
    rms = float(np.sqrt(np.mean(sol.fun**2)))
    if not sol.success or rms > s.max_residual:
        raise CalibrationError(
            f"{sensor}: the resting poses do not agree with gravity (misfit {rms:.3f} m/s²): "
            "keep the sensor still on a firm table in each pose and record again"
        )
    info = {
        "poses": int(poses.shape[0]),
        "residual_m_s2": round(rms, 4),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        return AccCorrection(sol.x[:3], sol.x[3:], info)
    except PostureError as exc:
        raise CalibrationError(f"{sensor}: {exc}") from None


def fit_table(
    raw: Mapping[str, ImuBlock], settings: TableSettings | None = None
) -> dict[str, AccCorrection]:
    """Correction of every sensor in a table recording (key → its correction)."""
    if not raw:
        raise CalibrationError("the table recording holds no sensor data")
    return {k: fit_poses(resting_poses(b, settings), settings, k) for k, b in raw.items()}


# -- storage ----------------------------------------------------------------------------------
def correction_from_json(d: Any, field: str) -> AccCorrection:
    """An :class:`AccCorrection` from its JSON object (``bias_m_s2``, ``scale``, ``info``),
    checked field by field as in a profile (:func:`calibration.profile_schema.acc_correction`)."""
    from calibration.profile_schema import ProfileSchemaError, acc_correction

    try:
        return acc_correction(d, field)
    except ProfileSchemaError as exc:
        raise CalibrationError(str(exc)) from None


def save_sensor_calibration(
    path: str | os.PathLike[str], corrections: Mapping[str, AccCorrection]
) -> None:
    """Write sensor id → correction as JSON (temporary name, then renamed)."""
    p = Path(path)
    doc = {
        "schema_version": SENSOR_SCHEMA_VERSION,
        "kind": _KIND,
        "sensors": {k: c.to_json_dict() for k, c in corrections.items()},
    }
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(dumps_json(doc) + "\n", encoding="utf-8")
    os.replace(tmp, p)


def load_sensor_calibration(path: str | os.PathLike[str]) -> dict[str, AccCorrection]:
    """Read a file written by :func:`save_sensor_calibration`; clear errors otherwise."""
    p = str(path)
    try:
        d = json.loads(Path(p).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise CalibrationError(
            f"{p}: sensor calibration not found; create one with 'spinewatch calibrate-sensors'"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CalibrationError(f"{p}: not a sensor calibration file ({exc})") from None
    if not isinstance(d, dict) or d.get("kind") != _KIND:
        raise CalibrationError(f"{p}: not a spinewatch sensor calibration file")
    if d.get("schema_version") != SENSOR_SCHEMA_VERSION:
        raise CalibrationError(
            f"{p}: sensor calibration schema version {d.get('schema_version')!r} is not "
            f"supported (this spinewatch reads {SENSOR_SCHEMA_VERSION}); calibrate the sensors "
            "again"
        )
    sensors = d.get("sensors")
    if not isinstance(sensors, dict):
        raise CalibrationError(f"{p}: field 'sensors' is missing or not an object")
    try:
        return {str(k): correction_from_json(v, f"sensors.{k}") for k, v in sensors.items()}
    except CalibrationError as exc:
        raise CalibrationError(f"{p}: {exc}; calibrate the sensors again") from None


def corrections_for(
    path: str | os.PathLike[str], sensor_ids: Mapping[str, str]
) -> dict[str, AccCorrection]:
    """Role → correction for the sensors ``sensor_ids`` (role → id) from a sensor calibration
    file; every sensor must be in it."""
    known = load_sensor_calibration(path)
    missing = [sid for sid in sensor_ids.values() if sid not in known]
    if missing:
        raise CalibrationError(
            f"{path}: no calibration for sensor {', '.join(missing)} (it holds "
            f"{', '.join(known) or 'none'}): calibrate that sensor with 'spinewatch "
            "calibrate-sensors' or give its id with --thoracic-id/--lumbar-id"
        )
    return {role: known[sid] for role, sid in sensor_ids.items()}
