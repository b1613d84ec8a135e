"""Accuracy metrics used by tests and benchmarks.

* :func:`broad_errors`: the BROAD orientation error metric (inclination, heading and total
  RMSE, optionally with one constant heading offset removed for 6D filters), exactly as the
  BROAD excerpts' README in ``shared/data/broad`` describes it.
* :func:`angle_rmse`: RMSE of spine angles against a ground-truth angle block on the same
  time stamps.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from posture import quat as Q
from posture.records import AngleBlock

F64 = NDArray[np.float64]


def broad_errors(
    q_est: F64, q_truth: F64, mask: NDArray[np.bool_], remove_heading_offset: bool
) -> dict[str, float]:
    """BROAD-style RMSE (deg) of estimated vs true orientations ``(N, 4)``.

    Args:
        q_est, q_truth: sensor→earth quaternions ``w, x, y, z``.
        mask: samples to evaluate (BROAD's movement mask); non-finite samples are dropped.
        remove_heading_offset: remove one constant heading rotation first (for 6D filters).
    """
    e = Q.multiply(Q.normalize(q_est), Q.conj(Q.normalize(q_truth)))
    keep = mask & np.isfinite(e).all(axis=1)
    e = e[keep]
    w, z = e[:, 0], e[:, 3]
    offset = 0.0
    if remove_heading_offset:
        wz = np.column_stack((w, z))
        evals, evecs = np.linalg.eigh(wz.T @ wz)
        c, s = evecs[:, -1]
        offset = 2.0 * np.arctan2(s, c)
        e = Q.multiply(Q.yaw_quat(-offset), e)
        w, z = e[:, 0], e[:, 3]
    total = 2.0 * np.arccos(np.clip(np.abs(w), 0, 1))
    heading = 2.0 * np.arctan2(np.abs(z), np.abs(w))
    incl = 2.0 * np.arccos(np.clip(np.sqrt(w * w + z * z), 0, 1))

    def rms(a: F64) -> float:
        return float(np.degrees(np.sqrt(np.mean(a * a))))

    off = float(np.degrees(np.angle(np.exp(1j * offset))))
    return {
        "total_rmse_deg": rms(total),
        "heading_rmse_deg": rms(heading),
        "inclination_rmse_deg": rms(incl),
        "heading_offset_deg": off,
        "n": int(keep.sum()),
    }


def angle_rmse(est: AngleBlock, truth: AngleBlock, skip_s: float = 0.0) -> dict[str, float]:
    """RMSE (deg) per plane over samples valid in both, after the first ``skip_s`` seconds.

    Truth is matched to the estimate by time stamp (nearest, within half a sample).
    """
    idx = np.clip(np.searchsorted(truth.t, est.t), 1, truth.t.size - 1)
    left = truth.t[idx - 1]
    right = truth.t[idx]
    idx = np.where(np.abs(est.t - left) <= np.abs(right - est.t), idx - 1, idx)
    dt = np.abs(truth.t[idx] - est.t)
    tol = 0.5 * float(np.median(np.diff(truth.t))) if truth.t.size > 1 else 1e-6
    ok = dt <= tol
    ok &= est.t >= est.t[0] + skip_s
    out: dict[str, float] = {}
    for name in ("flexion", "lateral_flexion", "rotation", "thoracic_inclination", "hip_angle"):
        a = getattr(est, name)
        b = getattr(truth, name)[idx]
        good = ok & np.isfinite(a) & np.isfinite(b)
        out[name] = float(np.sqrt(np.mean((a[good] - b[good]) ** 2))) if good.any() else np.nan
    out["coverage"] = float(np.mean(ok & np.isfinite(est.flexion)))
    return out


def evaluate_broad(
    path: str | os.PathLike[str], use_mag: bool
) -> tuple[dict[str, float], dict[str, float], int]:
    """Run our fusion on one BROAD excerpt and score it like ``reference.json`` does.

    Returns ``(our errors, the vqf reference entry for the same mode, filled samples)``:
    9D is scored on the absolute metric, 6D with one heading offset removed.
    """
    from posture.fusion import FusionSettings, OrientationFilter
    from posture.records import ImuBlock

    p = Path(path)
    ex = np.load(p)
    rate = float(ex["rate"])

    def f(k: str) -> F64:
        return np.asarray(ex[k], dtype=np.float64)

    t = 100.0 + np.arange(len(ex["t"])) / rate  # uniform clock, offset to a non-zero start
    block = ImuBlock("lumbar", t, f("acc"), f("gyr"), f("mag"))
    ob = OrientationFilter(rate, FusionSettings(use_mag=use_mag)).process(block)
    errors = broad_errors(ob.quat, f("quat_truth"), np.asarray(ex["movement"]), not use_mag)
    ref = json.loads((p.parent / "reference.json").read_text())["excerpts"][p.name]
    want = ref["VQF_9D" if use_mag else "VQF_6D"][
        "absolute" if use_mag else "heading_offset_removed"
    ]
    assert ob.filled is not None
    return errors, want, int(ob.filled.sum())
