"""Per-sensor orientation fusion with VQF (6D by default, 9D optional).

Magnetometers are unreliable next to barbells and racks, so 6D (gyro + accelerometer) is the
default; its heading drifts slowly and independently per sensor, which the engine corrects by
re-zeroing the relative heading during quiet standing.

:class:`OrientationFilter` keeps explicit state so the same object serves the streaming path
(:meth:`OrientationFilter.process` called with small blocks, or :meth:`OrientationFilter.update`
per sample) and the batch path (one call with the whole recording); both give identical
numbers because they feed VQF the same samples in the same order.

Gaps: VQF assumes a fixed sampling interval. A gap of up to ``max_fill_s`` (100 ms) is bridged
by inserting linearly interpolated samples (marked ``filled``), which keeps the gyro
integration on time. Longer gaps are not filled: no data is invented across them; the engine
flags them, and the accelerometer correction brings the inclination back afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import vqf
from numpy.typing import NDArray

from posture import quat as Q
from posture.anchors import GaitDetector
from posture.errors import PostureError
from posture.records import (
    LUMBAR,
    THORACIC,
    ImuBlock,
    OrientationBlock,
    constant_flags,
    unchecked,
)

F64 = NDArray[np.float64]
#: A live block fused to Python lists (:meth:`OrientationFilter.process_small`).
FusedLists = tuple[
    list[float],
    list[tuple[float, float, float, float]],
    list[bool],
    list[float],
    list[float] | None,
]

#: Typical centre of a hip hinge to each sensor, m, in its segment's frame (ISB: X forward,
#: Y up): strapped on the back ≈ 10 cm behind the hip joints, the lumbar sensor ≈ 10 cm and
#: the thoracic one ≈ 35 cm above them. The live engine compensates the swing acceleration
#: about this point (:meth:`OrientationFilter.set_lever_arm`); the result hardly depends on
#: the exact figures (docs/load.md).
LEVER_ARMS_M: dict[str, tuple[float, float, float]] = {
    LUMBAR: (-0.10, 0.10, 0.0),
    THORACIC: (-0.10, 0.35, 0.0),
}


def sensor_lever_arm(role: str, mount: F64) -> F64:
    """:data:`LEVER_ARMS_M` of ``role`` in its sensor's frame, m ``(3,)``, from the sensor's
    calibrated mounting ``mount`` (``SpineModel.mount_lumbar`` / ``mount_thoracic``): what
    :meth:`OrientationFilter.set_lever_arm` and :func:`posture.offline_fusion.fuse_offline` take."""
    return Q.rotate(Q.conj(mount), np.array(LEVER_ARMS_M[role]))


@dataclass(frozen=True)
class FusionSettings:
    """Settings of one orientation filter.

    Attributes:
        use_mag: 9D fusion with the magnetometer when the block has one.
        tau_acc: accelerometer correction time constant, s (VQF default 3 s).
        max_fill_s: longest gap bridged by interpolation, s.
        rest_bias_estimation: let VQF estimate gyro bias while the sensor is still.
        motion_bias_estimation: let VQF estimate gyro bias during motion.
        swing_lp_s: time constant of the gyro low-pass used for the swing compensation, s
            (:meth:`OrientationFilter.set_lever_arm`; live filter only).
        tau_acc_swing: ``tau_acc`` of a live filter whose swing acceleration is compensated,
            s: with the swing's pull gone the accelerometer can be trusted sooner, which
            shortens the tilt lag from the gyro bias (docs/load.md).
    """

    use_mag: bool = False
    tau_acc: float = 3.0
    max_fill_s: float = 0.1
    rest_bias_estimation: bool = True
    motion_bias_estimation: bool = True
    swing_lp_s: float = 0.1
    tau_acc_swing: float = 2.0


class OrientationFilter:
    """VQF orientation filter for one sensor, with gap bridging and explicit state.

    Args:
        rate_hz: nominal sampling rate of the sensor, Hz.
        settings: filter settings.
        sensor: sensor id carried into the output blocks.
    """

    def __init__(
        self,
        rate_hz: float,
        settings: FusionSettings | None = None,
        sensor: str = "",
        gait: bool = True,
    ):
        if not 5.0 <= rate_hz <= 2000.0:
            raise PostureError(
                f"sampling rate {rate_hz:.3g} Hz is outside 5–2000 Hz; check the time column "
                "(seconds expected)"
            )
        self.rate_hz = float(rate_hz)
        self.ts = 1.0 / self.rate_hz
        self.settings = settings or FusionSettings()
        self.sensor = sensor
        self._vqf = vqf.VQF(self.ts, **self.params())
        # The step-bounce detector only where its output is read (the live engine reads the
        # lumbar sensor's; gait=False leaves ``gait_rms`` None and costs nothing per block).
        self._gait: GaitDetector | None = GaitDetector(self.rate_hz) if gait else None
        self._last_t: float | None = None
        self._last_acc: F64 | None = None
        self._last_gyr: F64 | None = None
        self._last_mag: F64 | None = None
        # Swing compensation (see :meth:`set_lever_arm`): lever arm in the sensor frame, m,
        # and the last gyro sample fed to VQF (for the angular acceleration), explicit so
        # any chunking gives the same numbers.
        self._arm: tuple[float, float, float] | None = None
        self._prev_w: tuple[float, float, float] | None = None
        self._prev_wt: float = 0.0
        self._lp_k = self.ts / (self.settings.swing_lp_s + self.ts)

    def set_lever_arm(self, arm: F64 | None) -> None:
        """Subtract the acceleration of swinging about a point ``arm`` (m, sensor frame,
        ``(3,)``: from the centre of rotation to the sensor) before the tilt correction.

        A sensor rotating at ω, α about a centre ``arm`` behind it feels α×r + ω×(ω×r) on
        top of gravity; in a hip hinge that pulls the live tilt correction (docs/load.md).
        With it compensated, VQF runs with ``tau_acc_swing`` (``None``: off, ``tau_acc``).
        Call before the first sample.
        """
        if arm is None:
            self._arm = None
            self._vqf.setTauAcc(self.settings.tau_acc)
            return
        x, y, z = np.asarray(arm, dtype=np.float64).tolist()
        self._arm = (x, y, z)
        self._vqf.setTauAcc(self.settings.tau_acc_swing)

    def _swing(self, t: list[float], gyr: list[list[float]], acc: list[list[float]]) -> list[float]:
        """Accelerometer samples minus the swing acceleration (m/s², sensor frame), flat
        (x, y, z of each sample in turn: numpy reads a flat list faster); advances the state.

        From the low-passed gyro (``swing_lp_s``): the skin's own fast wobble is no rotation
        about the hips, and its ω² and α would otherwise read as a steady pull. Python floats:
        a live block has a few samples, where numpy calls cost more than the arithmetic.
        """
        assert self._arm is not None
        rx, ry, rz = self._arm
        k, rate, max_dt = self._lp_k, self.rate_hz, 1.5 * self.ts
        tp = self._prev_wt
        started = self._prev_w is not None
        wx, wy, wz = self._prev_w or (0.0, 0.0, 0.0)  # (the previous low-passed gyro)
        out: list[float] = []
        for ti, (gx, gy, gz), (cx, cy, cz) in zip(t, gyr, acc, strict=True):
            if started and 0.0 < ti - tp <= max_dt:
                px, py, pz = wx, wy, wz
                wx = px + k * (gx - px)
                wy = py + k * (gy - py)
                wz = pz + k * (gz - pz)
                ax, ay, az = (wx - px) * rate, (wy - py) * rate, (wz - pz) * rate
            else:
                wx, wy, wz = gx, gy, gz  # restart the low-pass at the start and after a gap
                ax = ay = az = 0.0
                started = True
            tp = ti
            d = wx * rx + wy * ry + wz * rz
            n = wx * wx + wy * wy + wz * wz
            out += (
                cx - (ay * rz - az * ry + wx * d - rx * n),
                cy - (az * rx - ax * rz + wy * d - ry * n),
                cz - (ax * ry - ay * rx + wz * d - rz * n),
            )
        if started:
            self._prev_w, self._prev_wt = (wx, wy, wz), tp
        return out

    # -- streaming, one sample -------------------------------------------------------------
    def update(self, gyr: F64, acc: F64, mag: F64 | None = None, t: float = 0.0) -> F64:
        """Feed one sample (rad/s, m/s², µT; time ``t``, s) and return the orientation ``(4,)``.

        No gap handling: use :meth:`process` when samples can be missing.
        """
        a = acc.tolist() if isinstance(acc, np.ndarray) else list(acc)
        if self._gait is not None:
            self._gait.step(a[0], a[1], a[2])
        if self._arm is not None:
            w = gyr.tolist() if isinstance(gyr, np.ndarray) else list(gyr)
            acc = np.array(self._swing([float(t)], [w], [a]))
        if mag is not None and self.settings.use_mag:
            self._vqf.update(gyr, acc, mag)
            return np.asarray(self._vqf.getQuat9D())
        self._vqf.update(gyr, acc)
        return np.asarray(self._vqf.getQuat6D())

    def remember(self, t: float, acc: F64, gyr: F64, mag: F64 | None = None) -> None:
        """Record the last sample fed through :meth:`update`, for gap checks in :meth:`process`."""
        self._last_t = float(t)
        self._last_acc = np.asarray(acc, dtype=np.float64)
        self._last_gyr = np.asarray(gyr, dtype=np.float64)
        self._last_mag = None if mag is None else np.asarray(mag, dtype=np.float64)

    @property
    def last_t(self) -> float | None:
        """Time of the last sample seen, s (``None`` before the first)."""
        return self._last_t

    @property
    def rest(self) -> bool:
        """VQF's rest detection: the sensor has been still for at least 1.5 s."""
        return bool(self._vqf.getRestDetected())

    @property
    def gait_rms(self) -> float:
        """Step-bounce RMS after the last sample, m/s² (:class:`posture.anchors.GaitDetector`)."""
        return 0.0 if self._gait is None else self._gait.rms

    @property
    def bias_sigma(self) -> float:
        """Current gyro-bias uncertainty (1σ, max over the axes), rad/s."""
        return float(self._vqf.getBiasEstimate()[1])

    @property
    def gyro_bias(self) -> F64:
        """Current gyro bias estimate, rad/s, ``(3,)``."""
        bias, _sigma = self._vqf.getBiasEstimate()
        return np.asarray(bias)

    # -- blocks ----------------------------------------------------------------------------
    def _may_need_fill(self, t: F64) -> bool:
        """Whether some interval (also from the last sample seen) is long enough to fill."""
        lo, hi = 1.4 * self.ts, self.settings.max_fill_s + 0.5 * self.ts
        if t.shape[0] <= 32:  # live blocks: a Python loop beats four numpy calls
            prev = self._last_t
            for x in t.tolist():
                if prev is not None and lo <= x - prev <= hi:
                    return True
                prev = x
            return False
        tt = t if self._last_t is None else np.concatenate(([self._last_t], t))
        dt = np.diff(tt)
        return bool(((dt >= lo) & (dt <= hi)).any())

    def _bridge_gaps(self, block: ImuBlock) -> tuple[F64, F64, F64, F64 | None, NDArray[np.bool_]]:
        """Insert interpolated samples into gaps of up to ``max_fill_s`` (also across blocks)."""
        t, acc, gyr = block.t, block.acc, block.gyr
        use_mag = self.settings.use_mag and block.mag is not None
        # Fast path (the live case): clearly no gap to fill (a superset of the fill test
        # below), so no joined copies of the arrays.
        if not self._may_need_fill(t):
            return t, acc, gyr, (block.mag if use_mag else None), constant_flags(t.shape[0], False)
        mag: F64 = block.mag if block.mag is not None else np.zeros_like(acc)
        if self._last_t is not None:
            assert self._last_acc is not None and self._last_gyr is not None
            t = np.concatenate(([self._last_t], t))
            acc = np.vstack((self._last_acc, acc))
            gyr = np.vstack((self._last_gyr, gyr))
            if use_mag:
                last_mag = self._last_mag if self._last_mag is not None else mag[0]
                mag = np.vstack((last_mag, mag))
            skip = 1
        else:
            skip = 0
        dt = np.diff(t)
        n_missing = np.rint(dt / self.ts).astype(np.int64) - 1
        fill = (n_missing > 0) & (dt <= self.settings.max_fill_s + 0.5 * self.ts)
        if not fill.any():
            filled = np.zeros(t.shape[0], dtype=bool)
            return (
                t[skip:],
                acc[skip:],
                gyr[skip:],
                (mag[skip:] if use_mag else None),
                filled[skip:],
            )
        counts = np.ones(t.shape[0], dtype=np.int64)
        counts[1:] += np.where(fill, n_missing, 0)
        # Position of each original sample in the new array; the rest are interpolated.
        pos = np.cumsum(counts) - 1
        total = int(pos[-1]) + 1
        orig_idx = np.zeros(total, dtype=bool)
        orig_idx[pos] = True
        # Fractional index into the original samples for every new sample.
        seg = np.repeat(np.arange(t.shape[0]), counts)  # original sample that ends each run
        start = np.repeat(pos - counts + 1, counts)
        k = np.arange(total) - start + 1  # 1..count within the run
        counts_rep = np.repeat(counts, counts)
        base = np.where(orig_idx, seg, seg - 1)
        nxt = np.minimum(base + 1, t.shape[0] - 1)
        w = np.where(orig_idx, 0.0, k / counts_rep)[:, None]

        def interp(a: F64) -> F64:
            return a[base] * (1.0 - w) + a[nxt] * w

        new_t = interp(t[:, None])[:, 0]
        out_mag = interp(mag)[skip:] if use_mag else None
        filled = ~orig_idx
        return new_t[skip:], interp(acc)[skip:], interp(gyr)[skip:], out_mag, filled[skip:]

    def _compensated(
        self, t: F64, gyr: F64, acc: F64, acc_rows: list[list[float]] | None = None
    ) -> F64:
        """``acc`` minus the swing acceleration (:meth:`set_lever_arm`), ``(N, 3)``
        (``acc_rows``: ``acc.tolist()`` if the caller has it)."""
        rows = acc.tolist() if acc_rows is None else acc_rows
        flat = self._swing(t.tolist(), gyr.tolist(), rows)
        return np.fromiter(flat, np.float64, len(flat)).reshape(-1, 3)  # (np.array is slower)

    def _run(
        self, t: F64, acc: F64, gyr: F64, mag: F64 | None, last: ImuBlock
    ) -> tuple[F64, dict[str, F64], list[list[float]] | None]:
        """Feed VQF samples (swing-compensated) and remember ``last``'s last sample: the
        orientations ``(N, 4)``, VQF's outputs and the accelerometer rows (``None`` if none
        were listed)."""
        gyr_c = np.ascontiguousarray(gyr)
        acc_c = np.ascontiguousarray(acc)
        # the swing compensation and the gait detector both read the samples as lists
        rows = None if self._arm is None and self._gait is None else acc_c.tolist()
        acc_f = acc_c if self._arm is None else self._compensated(t, gyr_c, acc_c, rows)
        if mag is not None:
            out = self._vqf.updateBatch(gyr_c, acc_f, np.ascontiguousarray(mag))
            quat = out["quat9D"]
        else:
            out = self._vqf.updateBatch(gyr_c, acc_f)
            quat = out["quat6D"]
        self._last_t = float(last.t[-1])
        # views, not copies: a pushed block is not written again (only a gap bridged later
        # reads them)
        self._last_acc = last.acc[-1]
        self._last_gyr = last.gyr[-1]
        self._last_mag = None if last.mag is None else last.mag[-1]
        return quat, out, rows

    def process(self, block: ImuBlock) -> OrientationBlock:
        """Fuse a block (streaming or batch) and return orientations on its time stamps.

        Interpolated samples inserted into short gaps are included and marked ``filled``.
        """
        if len(block) == 0:
            return OrientationBlock(
                self.sensor or block.sensor,
                np.zeros(0),
                np.zeros((0, 4)),
                np.zeros(0, bool),
                np.zeros(0, bool),
            )
        t, acc, gyr, mag, filled = self._bridge_gaps(block)
        quat, out, rows = self._run(t, acc, gyr, mag, block)
        return unchecked(  # VQF's outputs are fresh contiguous float64/bool arrays
            OrientationBlock,
            self.sensor or block.sensor,
            t,
            quat,
            out["restDetected"],
            filled,
            out["biasSigma"],
            None if self._gait is None or rows is None else self._gait.process_rows(rows),
        )

    def process_small(self, block: ImuBlock) -> FusedLists | None:
        """:meth:`process` of a live block (a few samples, no gap to bridge, no magnetometer)
        as Python lists: times (s), quaternions, rest flags, gyro-bias σ (rad/s) and step-bounce
        RMS (m/s²; ``None`` without a gait detector). The same numbers and state; the live
        engine reads lists, and an :class:`OrientationBlock` in between costs more than the
        samples. ``None`` (nothing fed) where it does not apply: use :meth:`process`."""
        t = block.t
        n = t.shape[0]
        if not 0 < n <= 32 or (self.settings.use_mag and block.mag is not None):
            return None
        if self._may_need_fill(t):
            return None
        quat, out, rows = self._run(t, block.acc, block.gyr, None, block)
        gait = None if self._gait is None or rows is None else self._gait.process_list(rows)
        quats = [(w, x, y, z) for w, x, y, z in quat.tolist()]
        return t.tolist(), quats, out["restDetected"].tolist(), out["biasSigma"].tolist(), gait

    def params(self) -> dict[str, float | bool]:
        """The VQF parameters this filter runs with (shared by :func:`fuse_offline`)."""
        return {
            "tauAcc": self.settings.tau_acc,
            "restBiasEstEnabled": self.settings.rest_bias_estimation,
            "motionBiasEstEnabled": self.settings.motion_bias_estimation,
        }
