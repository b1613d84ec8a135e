"""In-field accelerometer calibration for batch analysis: calibration + session rest poses.

Measured on the simulator (issue 12, seeds 0–6 × 50/200 Hz): the rest poses of the
calibration recording alone (standing, leaned forward, cat-cow extremes: gravity within a
≈ 50° arc of the sagittal plane) cannot tell the scale errors from the biases, and a fit on
them made flexion worse on 3 of 7 seeds. A whole session adds rest poses over more than 100°
(sitting, quadruped, bent-over pauses, side bends), and a fit on the calibration's and the
session's rest poses together brings flexion close to a table calibration. So:

* :func:`calibration.calibrate` (no table calibration given) keeps the calibration's rest-pose
  means and how its outputs move with each sensor's accelerometer correction (a finite-
  difference sensitivity, 12 re-calibrations of the same recording): :class:`FieldData`,
  stored in the profile (``field_acc``). It applies no correction itself, so live analysis
  uses the accelerometers as read, exactly as before.
* :func:`profile_for_session` (batch ``analyze`` and re-analysis) fits each sensor's bias and
  scale on both sets of rest poses (:func:`calibration.field_acc.fit_rest_poses`, with its
  guards) and returns the profile as if the calibration recording had been calibrated with
  that correction: mountings, neutral and standing flexion moved by the sensitivity (first
  order; corrections are a few 10 mg), the correction attached for the session's fusion.

A table calibration, when the profile has one, wins: the profile is returned unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from calibration.field_acc import FieldSettings, fit_rest_poses, rest_poses
from posture import quat as Q
from posture.acc_correction import AccCorrection
from posture.records import LUMBAR, ROLES, THORACIC, ImuBlock, OrientationBlock

if TYPE_CHECKING:
    from calibration.profile import CalibrationProfile

F64 = NDArray[np.float64]
#: Unknowns per sensor (bias x, y, z in m/s², scale − 1 per axis), thoracic then lumbar.
PARAMS = ("bias_x", "bias_y", "bias_z", "scale_x", "scale_y", "scale_z")
#: Profile outputs the sensitivity covers: rotation vectors (rad) of the change of each
#: quaternion (right-multiplied) and the standing flexion (deg).
OUTPUTS = ("mount_thoracic", "mount_lumbar", "neutral", "standing_flexion_deg")
_STEP = np.r_[[0.02] * 3, [0.002] * 3]  # finite-difference steps: typical corrections
_ORDER = (THORACIC, LUMBAR)


@dataclass(frozen=True, eq=False)
class FieldData:
    """What batch analysis needs from the calibration recording for the in-field fit.

    Attributes:
        poses: role → mean raw accelerometer reading of each rest pose, m/s², ``(P, 3)``.
        sensitivity: ``(10, 12)``: d(outputs)/d(parameters); rows: rotation vectors (rad) of
            mount_thoracic, mount_lumbar, neutral, then standing flexion (deg); columns:
            :data:`PARAMS` for the thoracic sensor, then for the lumbar one.
    """

    poses: Mapping[str, F64]
    sensitivity: F64

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldData):
            return NotImplemented
        return (
            self.poses.keys() == other.poses.keys()
            and all(np.array_equal(self.poses[r], other.poses[r]) for r in self.poses)
            and np.array_equal(self.sensitivity, other.sensitivity)
        )

    # (__eq__ defined here leaves __hash__ None: arrays inside, not hashable)

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "rest_poses_m_s2": {
                r: [[float(x) for x in row] for row in np.asarray(p)] for r, p in self.poses.items()
            },
            "sensitivity": [[float(x) for x in row] for row in self.sensitivity],
        }


def _rotvec(q: F64) -> F64:
    """Rotation vector (rad, ``(3,)``) of a unit quaternion ``(4,)`` (numpy only: batch
    ``analyze`` imports no scipy)."""
    q = q if q[0] >= 0 else -q
    s = float(np.linalg.norm(q[1:]))
    return 2.0 * np.arctan2(s, q[0]) * q[1:] / s if s > 0 else np.zeros(3)


def _from_rotvec(v: F64) -> F64:
    a = float(np.linalg.norm(v))
    return Q.from_axis_angle(v, a) if a > 0 else np.array([1.0, 0.0, 0.0, 0.0])


def _outputs(p: CalibrationProfile, base: CalibrationProfile) -> F64:
    """The profile's outputs as changes from ``base`` (rotation vectors, rad; deg)."""
    out = []
    for name in OUTPUTS[:3]:
        q0, q1 = np.asarray(getattr(base, name)), np.asarray(getattr(p, name))
        out.append(_rotvec(Q.normalize(Q.multiply(Q.conj(q0), q1))))
    out.append(np.array([p.standing_flexion_deg - base.standing_flexion_deg]))
    return np.concatenate(out)


def field_data(
    raw: Mapping[str, ImuBlock],
    base: CalibrationProfile,
    recalibrate: Callable[[dict[str, AccCorrection]], CalibrationProfile],
    settings: FieldSettings | None = None,
) -> FieldData:
    """Rest poses of the calibration recording and the sensitivity of ``base`` (calibrated
    without correction) to each accelerometer parameter: ``recalibrate(corrections)`` must
    calibrate the same recording with those corrections."""
    cols = []
    for role in _ORDER:
        for k in range(6):
            x = np.zeros(6)
            x[k] = _STEP[k]
            corr = AccCorrection(x[:3], 1.0 + x[3:], source="field")
            cols.append(_outputs(recalibrate({role: corr}), base) / _STEP[k])
    poses = {r: rest_poses(raw[r], settings) for r in ROLES}
    return FieldData(poses, np.column_stack(cols))


def profile_for_session(
    profile: CalibrationProfile,
    raw: Mapping[str, ImuBlock | OrientationBlock],
    settings: FieldSettings | None = None,
) -> CalibrationProfile:
    """The profile for batch analysis of ``raw``: with the in-field accelerometer correction
    fitted on the calibration's and this recording's rest poses (see the module docstring),
    or unchanged (table correction present, no field data, pre-fused input). Per sensor,
    ``info["acc_field_calibration"]`` says what was fitted or why nothing was."""
    fd = profile.field_acc
    if profile.acc_correction or fd is None:
        return profile
    if not all(isinstance(raw.get(r), ImuBlock) for r in ROLES):
        return profile
    dp = np.zeros(12)
    corr: dict[str, AccCorrection] = {}
    info: dict[str, Any] = {}
    for i, role in enumerate(_ORDER):
        block = raw[role]
        assert isinstance(block, ImuBlock)
        session = rest_poses(block, settings)
        poses = np.vstack([np.asarray(fd.poses.get(role, np.zeros((0, 3)))), session])
        fit = fit_rest_poses(poses, settings)
        info[role] = {**fit.info, "session_poses": int(session.shape[0])}
        if fit.correction is not None:
            c = fit.correction
            corr[role] = replace(c, info=info[role])
            dp[6 * i : 6 * i + 6] = np.r_[c.bias, c.scale - 1.0]
    if not corr:
        return replace(profile, info={**profile.info, "acc_field_calibration": info})
    return _moved(profile, fd.sensitivity @ dp, corr, info)


def _moved(
    p: CalibrationProfile, d: F64, corr: dict[str, AccCorrection], info: dict[str, Any]
) -> CalibrationProfile:
    """``p`` with its outputs moved by ``d`` (see :func:`_outputs`) and ``corr`` attached."""

    def moved(name: str, k: int) -> tuple[float, float, float, float]:
        r = _from_rotvec(d[3 * k : 3 * k + 3])
        q = Q.normalize(Q.multiply(np.asarray(getattr(p, name)), r))
        return float(q[0]), float(q[1]), float(q[2]), float(q[3])

    return replace(
        p,
        mount_thoracic=moved("mount_thoracic", 0),
        mount_lumbar=moved("mount_lumbar", 1),
        neutral=moved("neutral", 2),
        standing_flexion_deg=float(p.standing_flexion_deg + d[9]),
        acc_correction=corr,
        info={**p.info, "acc_field_calibration": info},
    )


def describe(profile: CalibrationProfile) -> str | None:
    """One line for people: what the in-field accelerometer calibration did per sensor in a
    batch profile (``None`` when it did not run)."""
    info = profile.info.get("acc_field_calibration")
    if not isinstance(info, dict):
        return None
    parts = []
    for role, i in info.items():
        if i.get("applied"):
            parts.append(
                f"{role} corrected (|a| − g misfit {i['misfit_raw_m_s2']:.3f} → "
                f"{i['misfit_fit_m_s2']:.3f} m/s² over {i['poses']} rest poses)"
            )
        else:
            parts.append(f"{role} as read ({i.get('reason', 'not fitted')})")
    return "accelerometers, in-field calibration: " + "; ".join(parts)
