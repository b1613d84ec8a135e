"""In-field accelerometer calibration from the rest poses of the calibration recording.

Without a table calibration (:mod:`calibration.sensor_table`) each accelerometer keeps a few
10 mg of bias and about 1 % scale error per axis, which tilts each sensor by a different amount
in every pose: a few tenths of a degree of flexion error. The wearer's recordings hold rest
poses at different orientations (standing, leaning forward, cat-cow extremes, sitting,
quadruped, bent-over pauses), and at rest ``|(a_raw − bias) / scale| = g``. A regularised
least squares fit (MAP with Gaussian priors: bias σ 0.05 m/s², scale σ 1 %; Gauss-Newton with
numpy's least squares) of the 6 unknowns over those rest poses recovers what the poses can
see: the bias and scale components along the directions gravity took in the sensor frame
(for back sensors mostly the sagittal plane, which is what tilts flexion). Directions gravity
never took stay at the prior (0). Which recordings' poses to use: :mod:`field_session`.

The fit is refused (no correction, the reason kept in the profile's ``info``) when the rest
poses are too few or span too small an angle, when the raw readings already agree with gravity
within the noise floor (a sensor without errors is left alone), or when the fit does not
clearly reduce the misfit. A table calibration, when given, wins (:func:`calibration.calibrate`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from posture.acc_correction import AccCorrection
from posture.constants import G
from posture.errors import PostureError
from posture.records import ImuBlock
from posture.runs import true_runs

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class FieldSettings:
    """Thresholds and priors of the in-field accelerometer calibration.

    Attributes:
        window_s: moving window for the rest test, s.
        still_gyr: mean angular rate below which the sensor rests, rad/s.
        still_acc_std: spread of the acceleration below which it rests, m/s².
        min_rest_s: shortest run of resting windows that counts as a pose, s.
        bias_sigma: prior σ of the bias per axis, m/s².
        scale_sigma: prior σ of the scale error per axis (fraction).
        pose_sigma: misfit of one rest pose's mean (noise + residual motion), m/s².
        min_poses: rest poses required.
        min_spread_deg: the gravity directions must span at least this angle, deg.
        misfit_floor: RMS ``|a| − g`` below which the sensor is left as read, m/s².
        max_misfit_ratio: the fit must bring the RMS misfit below this share of the raw one.
    """

    window_s: float = 0.5
    still_gyr: float = 0.1
    still_acc_std: float = 0.1
    min_rest_s: float = 0.2
    bias_sigma: float = 0.05
    scale_sigma: float = 0.01
    pose_sigma: float = 0.005
    min_poses: int = 3
    min_spread_deg: float = 20.0
    misfit_floor: float = 0.01
    max_misfit_ratio: float = 0.5


@dataclass(frozen=True)
class FieldFit:
    """Outcome for one sensor: the correction (``None`` when refused) and JSON-safe facts
    (``applied``, ``reason`` when refused, poses, spread, misfit before/after, posterior σ)."""

    correction: AccCorrection | None
    info: dict[str, Any]


_BIN_S = 0.1  # rest detection works on 0.1-s bin sums: one pass over a whole session


def rest_poses(block: ImuBlock, s: FieldSettings | None = None) -> F64:
    """Mean raw accelerometer reading of each rest pose, m/s², ``(P, 3)``.

    A pose is a run of at least ``min_rest_s`` of window centres where the mean angular rate
    and the spread of the acceleration over ``window_s`` stay small. The samples are summed
    in 0.1-s bins first (windows and runs in whole bins), so a 10-min 200-Hz session costs
    a few ms.
    """
    s = s or FieldSettings()
    n = len(block)
    if n < 3 or block.t[-1] <= block.t[0]:
        return np.zeros((0, 3))
    rate = (n - 1) / float(block.t[-1] - block.t[0])  # for bin sizes only
    k = max(1, int(round(_BIN_S * rate)))
    nb = n // k
    w = max(1, int(round(s.window_s / (k / rate))))  # bins per window
    if nb < w:
        return np.zeros((0, 3))
    acc = block.acc[: nb * k]
    sums = np.column_stack(
        (
            np.linalg.norm(block.gyr[: nb * k], axis=1).reshape(nb, k).sum(axis=1),
            acc.reshape(nb, k, 3).sum(axis=1),
            (acc * acc).reshape(nb, k, 3).sum(axis=1),
        )
    )
    c = np.concatenate((np.zeros((1, 7)), np.cumsum(sums, axis=0)))
    m = (c[w:] - c[:-w]) / (w * k)  # window means, window j = bins j .. j + w − 1
    spread = np.sqrt(np.maximum(m[:, 4:] - m[:, 1:4] ** 2, 0.0).sum(axis=1))
    still = (m[:, 0] < s.still_gyr) & (spread < s.still_acc_std)
    lo, hi = true_runs(still)  # windows [lo, hi)
    # The pose: the bins at the centres of the run's still windows (not their edges, which
    # may reach into the movement before and after).
    b0, b1 = lo + w // 2, hi + w // 2
    keep = (hi - lo) * k / rate >= s.min_rest_s
    b0, b1 = b0[keep], b1[keep]
    return ((c[b1, 1:4] - c[b0, 1:4]) / ((b1 - b0) * k)[:, None]).reshape(-1, 3)


def _spread_deg(poses: F64) -> float:
    """Largest angle between two gravity directions of the poses, deg."""
    u = poses / np.linalg.norm(poses, axis=1, keepdims=True)
    return float(np.degrees(np.arccos(np.clip((u @ u.T).min(), -1.0, 1.0))))


def _misfit(poses: F64, bias: F64, scale: F64) -> float:
    """RMS of ``|(a − bias) / scale| − g`` over the poses, m/s²."""
    return float(np.sqrt(np.mean((np.linalg.norm((poses - bias) / scale, axis=1) - G) ** 2)))


def fit_rest_poses(poses: F64, s: FieldSettings | None = None) -> FieldFit:
    """Bias (m/s²) and scale per axis from rest poses ``(P, 3)`` (m/s², raw): MAP fit with
    Gaussian priors, or no correction with the reason (see the module docstring)."""
    s = s or FieldSettings()
    poses = np.asarray(poses, dtype=np.float64).reshape(-1, 3)
    p = poses.shape[0]
    info: dict[str, Any] = {"poses": int(p)}
    if p < s.min_poses:
        return _refused(info, f"only {p} rest poses found ({s.min_poses} needed)")
    spread = _spread_deg(poses)
    before = _misfit(poses, np.zeros(3), np.ones(3))
    info.update(spread_deg=round(spread, 1), misfit_raw_m_s2=round(before, 4))
    if spread < s.min_spread_deg:
        return _refused(
            info, f"the rest poses span only {spread:.0f}° (at least {s.min_spread_deg:.0f}°)"
        )
    if before < s.misfit_floor:
        return _refused(info, f"the raw readings already agree with gravity ({before:.4f} m/s²)")
    prior = np.r_[[s.bias_sigma] * 3, [s.scale_sigma] * 3]
    x, jac, ok = _gauss_newton(poses, prior, s.pose_sigma)
    bias, scale = x[:3], 1.0 + x[3:]
    after = _misfit(poses, bias, scale)
    # Posterior σ over prior σ per unknown: 1 = the poses told nothing about it (the prior
    # rows keep JᵀJ invertible).
    post = np.sqrt(np.diag(np.linalg.inv(jac.T @ jac))) / prior
    info.update(
        misfit_fit_m_s2=round(after, 4),
        posterior_over_prior=[round(float(v), 3) for v in post],
    )
    if not ok or after > s.max_misfit_ratio * before:
        return _refused(info, f"the fit does not explain the misfit ({before:.4f} → {after:.4f})")
    try:
        corr = AccCorrection(bias, scale, {**info, "applied": True}, source="field")
    except PostureError as exc:
        return _refused(info, str(exc))
    return FieldFit(corr, corr.info)


def _gauss_newton(
    poses: F64, prior: F64, pose_sigma: float, iterations: int = 20
) -> tuple[F64, F64, bool]:
    """MAP estimate of ``x = [bias (3), scale − 1 (3)]``: Gauss-Newton on the residuals
    ``(|(a − bias) / scale| − g) / pose_sigma`` and ``x / prior`` (numpy's least squares per
    step; the problem is nearly linear, so a few steps converge; batch ``analyze`` imports no
    scipy). Returns x, the whitened Jacobian at x and whether it converged."""
    x = np.zeros(6)
    for _ in range(iterations):
        c = (poses - x[:3]) / (1.0 + x[3:])
        n = np.linalg.norm(c, axis=1)
        u = c / n[:, None]
        # d|c|/d bias_i = −u_i / scale_i; d|c|/d s_i = −u_i c_i / scale_i.
        j_fit = np.hstack((-u / (1.0 + x[3:]), -u * c / (1.0 + x[3:]))) / pose_sigma
        jac = np.vstack((j_fit, np.diag(1.0 / prior)))
        r = np.r_[(n - G) / pose_sigma, x / prior]
        step = np.linalg.lstsq(jac, -r, rcond=None)[0]
        x = x + step
        if np.all(np.abs(step) < 1e-6 * prior):
            return x, jac, bool(np.all(np.isfinite(x)))
    return x, jac, False


def _refused(info: dict[str, Any], reason: str) -> FieldFit:
    return FieldFit(None, {**info, "applied": False, "reason": reason})


def field_calibration(
    raw: Mapping[str, ImuBlock], settings: FieldSettings | None = None
) -> dict[str, FieldFit]:
    """Role → in-field fit of each sensor of a calibration recording (raw, uncorrected)."""
    return {r: fit_rest_poses(rest_poses(b, settings), settings) for r, b in raw.items()}
