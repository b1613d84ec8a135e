"""Offline orientation fusion of a whole recording (batch analysis, calibration).

:func:`fuse_offline` runs VQF's offline variant, which estimates the gyro bias forward and
backward over the data; gaps are bridged and the swing compensated as by the live filter
(:class:`posture.fusion.OrientationFilter`), whose helpers it uses so both treat the samples
alike.
"""

from __future__ import annotations

import numpy as np
import vqf

from posture.fusion import F64, FusionSettings, OrientationFilter
from posture.records import ImuBlock, OrientationBlock


def fuse_offline(
    block: ImuBlock,
    rate_hz: float,
    settings: FusionSettings | None = None,
    lever_arm: F64 | None = None,
) -> OrientationBlock:
    """Fuse a whole recording with VQF's offline variant (batch analysis, calibration).

    ``vqf.offlineVQF`` runs the filter forward and backward over the data, so the gyro bias
    (and with it the heading drift) is estimated from the whole recording instead of only
    from the past. Gaps are bridged as in :meth:`OrientationFilter.process`; the recording is
    split at longer gaps and each piece is fused on its own (offline VQF needs a fixed
    sampling interval). Pieces under 2 s use the online filter. Output as ``process``.

    ``lever_arm`` (m, sensor frame, ``(3,)``): subtract the swing acceleration about that
    centre first (:meth:`OrientationFilter.set_lever_arm`; ``tau_acc`` stays as set). The
    calibration uses it for the cat-cow, whose swing otherwise pulls the fullest flexion
    and with it the neutral (docs/load.md); batch analysis does not.
    """
    f = OrientationFilter(rate_hz, settings, block.sensor)
    if len(block) == 0:
        return f.process(block)
    t, acc, gyr, mag, filled = f._bridge_gaps(block)
    if lever_arm is not None:
        # (for _compensated's state only: the tau_acc it gives f's own online VQF does not
        # reach the filters below, which take f.params())
        f.set_lever_arm(lever_arm)
        acc = f._compensated(t, np.ascontiguousarray(gyr), np.ascontiguousarray(acc))
    brk = np.flatnonzero(np.diff(t) > f.settings.max_fill_s + 0.5 * f.ts) + 1
    bounds = np.concatenate(([0], brk, [t.size]))
    quat = np.empty((t.size, 4))
    rest = np.empty(t.size, bool)
    sig = np.empty(t.size)
    key = "quat9D" if mag is not None else "quat6D"
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        g = np.ascontiguousarray(gyr[a:b])
        c = np.ascontiguousarray(acc[a:b])
        m = None if mag is None else np.ascontiguousarray(mag[a:b])
        if b - a >= 2.0 * rate_hz:
            out = vqf.offlineVQF(g, c, m, f.ts, f.params())
        else:
            v = vqf.VQF(f.ts, **f.params())
            out = v.updateBatch(g, c) if m is None else v.updateBatch(g, c, m)
        quat[a:b] = out[key]
        rest[a:b] = out["restDetected"]
        sig[a:b] = out["biasSigma"]
    return OrientationBlock(f.sensor, t, quat, rest, filled, sig)
