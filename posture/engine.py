"""The posture engine: raw IMU blocks of two sensors in, calibrated spine angles out (live).

Pipeline per block: fuse each sensor (:mod:`posture.fusion`), map thoracic time onto the
lumbar clock (:mod:`posture.alignment`), slerp the thoracic orientation onto each lumbar time
stamp, apply the calibration's mountings and neutral (:mod:`posture.angles`), keep the
relative heading of the two 6D filters anchored (quiet upright standing; walking, by the
stride-averaged heading) with a rotation confidence from the expected heading error since
the last anchor (:mod:`posture.anchors`), and emit an :class:`~posture.records.AngleBlock`
on the lumbar sensor's own time stamps.

Any chunking gives identical numbers (tested); :func:`analyze` pushes a whole recording
through the engine to reproduce what live showed. The best estimate of a recording — what
``spinewatch analyze`` saves — is :func:`posture.batch.analyze_offline`, which also uses
the future.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from posture import angles as A
from posture import scalar_math as S
from posture.alignment import ClockMap, choose_clock, interpolate_orientation
from posture.anchors import ANCHOR_SIGMA_DEG, CONF_REF_DEG, GAIT_MIN_RMS, GaitAverager
from posture.errors import MissingSensorError, PostureError
from posture.fusion import FusionSettings, OrientationFilter
from posture.records import (
    ANGLE_COLUMNS,
    FLAG_FILLED,
    FLAG_GAP,
    FLAG_REZERO,
    FLAG_UNCALIBRATED,
    LUMBAR,
    ROLES,
    THORACIC,
    AngleBlock,
    ImuBlock,
    OrientationBlock,
)

F64 = NDArray[np.float64]
RAD2DEG = 180.0 / math.pi
#: Gyro-bias uncertainty assumed for pre-fused orientation input (rad/s): VQF's motion level.
PREFUSED_SIGMA = math.radians(0.1)


@dataclass(frozen=True)
class EngineSettings:
    """Engine settings.

    Attributes:
        fusion: orientation filter settings (both sensors).
        lumbar_rate_hz, thoracic_rate_hz: nominal rates; ``None`` = estimated from the first
            block of at least two samples (pass them for bit-exact streaming/batch equality).
        clock: thoracic→lumbar clock map; ``None`` = identity when streaming (the bridge maps
            both sensors to host time) and estimated from the data by :func:`analyze`.
        max_gap_s: longest gap bridged by interpolation, s; longer gaps give NaN + FLAG_GAP.
        hold_s: how long a lumbar sample waits for thoracic data before it is emitted as a gap.
        rezero_max_inclination_deg: both segments within this of upright to re-zero heading.
        rotation_confidence_tau_s: unused (kept for settings files of older versions).
        rezero_guard_deg: largest heading correction accepted by a re-zero, deg (a larger
            apparent rotation while standing still is a real twist, not drift).
        gait_anchors: re-anchor the relative heading while walking (mean rotation over
            strides = neutral; :class:`posture.anchors.GaitAverager`).
        heading_drift_deg_per_s: 1σ relative-heading drift rate between anchors assumed by
            batch analysis's expected rotation error, deg/s (live uses the filters' own
            gyro-bias uncertainty).
    """

    fusion: FusionSettings = field(default_factory=FusionSettings)
    lumbar_rate_hz: float | None = None
    thoracic_rate_hz: float | None = None
    clock: ClockMap | None = None
    max_gap_s: float = 0.1
    hold_s: float = 0.5
    rezero_max_inclination_deg: float = 12.0
    rotation_confidence_tau_s: float = 120.0
    rezero_guard_deg: float = 10.0
    heading_drift_deg_per_s: float = 0.01
    gait_anchors: bool = True


class PostureEngine:
    """Streaming posture engine with explicit state.

    Args:
        model: mountings and neutral from a calibration profile; ``None`` = uncalibrated.
        settings: engine settings.
    """

    def __init__(self, model: A.SpineModel | None = None, settings: EngineSettings | None = None):
        self.model = model or A.SpineModel.uncalibrated()
        self.settings = settings or EngineSettings()
        self.clock = self.settings.clock or ClockMap()
        self._filters: dict[str, OrientationFilter] = {}
        self._rates = {
            LUMBAR: self.settings.lumbar_rate_hz,
            THORACIC: self.settings.thoracic_rate_hz,
        }
        # Lumbar orientations waiting for thoracic data: t, quat, rest.
        self._pl_t = np.zeros(0)
        self._pl_q = np.zeros((0, 4))
        self._pl_rest = np.zeros(0, bool)
        self._pl_sig = np.zeros(0)
        self._pl_gait = np.zeros(0)
        self._gait = GaitAverager()
        # Thoracic history on the lumbar clock: t, quat, rest, filled, bias sigma.
        self._th_t = np.zeros(0)
        self._th_q = np.zeros((0, 4))
        self._th_rest = np.zeros(0, bool)
        self._th_filled = np.zeros(0, bool)
        self._th_sig = np.zeros(0)
        # Heading uncertainty: running sum of drift-rate·dt (deg) and its value at the last
        # anchor; expected error = f(sum − anchor sum) (posture.anchors).
        self._h_sum = 0.0
        self._h_anchor: float | None = None
        self._t_prev: float | None = None
        self._lumbar_last = -np.inf
        self._delta: float | None = None
        self._t_rezero: float | None = None
        self._t_start: float | None = None
        self._pending_raw: dict[str, list[ImuBlock]] = {r: [] for r in ROLES}
        self._rows: list[tuple[float, ...]] = []  # angle rows from push_pair, see drain()

    # -- input -----------------------------------------------------------------------------
    def _filter(self, role: str, block: ImuBlock) -> OrientationFilter | None:
        f = self._filters.get(role)
        if f is None:
            rate = self._rates[role] or (block.nominal_rate() if len(block) >= 2 else None)
            if rate is None:
                return None
            f = OrientationFilter(rate, self.settings.fusion, role)
            self._filters[role] = f
        return f

    def _fuse(self, block: ImuBlock | OrientationBlock) -> OrientationBlock | None:
        if isinstance(block, OrientationBlock):
            return block
        role = block.sensor
        f = self._filter(role, block)
        if f is None:
            self._pending_raw[role].append(block)
            return None
        parts = self._pending_raw[role]
        if parts:
            block = ImuBlock.concat([*parts, block])
            parts.clear()
        return f.process(block)

    def push(self, block: ImuBlock | OrientationBlock) -> AngleBlock:
        """Add samples of one sensor (role in ``block.sensor``); return newly ready angles.

        Pre-fused orientation blocks (sensors that fuse on board) are accepted in place of
        raw samples.
        """
        if self._rows:
            return AngleBlock.concat([self.drain(), self._push_block(block)])
        return self._push_block(block)

    def _push_block(self, block: ImuBlock | OrientationBlock) -> AngleBlock:
        role = block.sensor
        if role not in ROLES:
            raise PostureError(f"unknown sensor role '{role}': use 'thoracic' or 'lumbar'")
        if len(block) == 0:
            return AngleBlock.empty()
        ob = self._fuse(block)
        if ob is None or len(ob) == 0:
            return AngleBlock.empty()
        rest = ob.rest if ob.rest is not None else np.zeros(len(ob), bool)
        filled = ob.filled if ob.filled is not None else np.zeros(len(ob), bool)
        sig = ob.bias_sigma if ob.bias_sigma is not None else np.full(len(ob), PREFUSED_SIGMA)
        if role == LUMBAR:
            keep = ~filled  # outputs stay on the lumbar sensor's own time stamps
            self._pl_t = np.concatenate((self._pl_t, ob.t[keep]))
            self._pl_q = np.vstack((self._pl_q, ob.quat[keep]))
            self._pl_rest = np.concatenate((self._pl_rest, rest[keep]))
            self._pl_sig = np.concatenate((self._pl_sig, sig[keep]))
            gait = ob.gait_rms if ob.gait_rms is not None else np.zeros(len(ob))
            self._pl_gait = np.concatenate((self._pl_gait, gait[keep]))
            self._lumbar_last = float(ob.t[-1])
        else:
            self._th_t = np.concatenate((self._th_t, self.clock.to_lumbar(ob.t)))
            self._th_q = np.vstack((self._th_q, ob.quat))
            self._th_rest = np.concatenate((self._th_rest, rest))
            self._th_filled = np.concatenate((self._th_filled, filled))
            self._th_sig = np.concatenate((self._th_sig, sig))
        return self._emit(final=False)

    def flush(self) -> AngleBlock:
        """Emit every pending lumbar sample (as gaps where thoracic data never came)."""
        return AngleBlock.concat([self.drain(), self._emit(final=True)])

    # -- per-sample fast path --------------------------------------------------------------
    def push_pair(
        self,
        t_lumbar: float,
        acc_lumbar: F64,
        gyr_lumbar: F64,
        t_thoracic: float,
        acc_thoracic: F64,
        gyr_thoracic: F64,
    ) -> int:
        """Add one raw sample of each sensor (s, m/s² ``(3,)``, rad/s ``(3,)``).

        The live per-sample path: same results as :meth:`push` (to ~1e-9°) at a fraction of
        the cost, because one-row numpy calls are mostly overhead. Unusual cases (gaps,
        start-up, a sensor running far ahead) fall back to :meth:`push`. New angle rows are
        collected; :meth:`drain` returns them as one block.

        Returns:
            The number of angle rows now waiting in :meth:`drain`.
        """
        if not self._fast_path_ok(t_lumbar, t_thoracic):
            for role, t, acc, gyr in (
                (THORACIC, t_thoracic, acc_thoracic, gyr_thoracic),
                (LUMBAR, t_lumbar, acc_lumbar, gyr_lumbar),
            ):
                blk = ImuBlock(role, np.array([t]), np.asarray(acc)[None], np.asarray(gyr)[None])
                self._push_rows(self.push(blk))
            return len(self._rows)
        f_l, f_t = self._filters[LUMBAR], self._filters[THORACIC]
        q_t = tuple(f_t.update(gyr_thoracic, acc_thoracic).tolist())
        f_t.remember(t_thoracic, acc_thoracic, gyr_thoracic)
        q_l = tuple(f_l.update(gyr_lumbar, acc_lumbar).tolist())
        f_l.remember(t_lumbar, acc_lumbar, gyr_lumbar)
        tt = (t_thoracic - self.clock.offset_s) / (1.0 + self.clock.drift)
        keep = max(0, self._th_t.size - 3)
        self._th_t = np.append(self._th_t[keep:], tt)
        self._th_q = np.vstack((self._th_q[keep:], q_t))
        self._th_rest = np.append(self._th_rest[keep:], f_t.rest)
        self._th_filled = np.append(self._th_filled[keep:], False)
        self._th_sig = np.append(self._th_sig[keep:], f_t.bias_sigma)
        self._lumbar_last = t_lumbar
        cands: list[tuple[float, tuple[float, ...], bool, float, float]] = []
        if self._pl_t.size:
            cands.append(
                (
                    float(self._pl_t[0]),
                    tuple(self._pl_q[0].tolist()),
                    bool(self._pl_rest[0]),
                    float(self._pl_sig[0]),
                    float(self._pl_gait[0]),
                )
            )
        cands.append((t_lumbar, q_l, f_l.rest, f_l.bias_sigma, f_l.gait_rms))
        pending = []
        th_t = self._th_t.tolist()
        for c in cands:
            if c[0] <= tt:
                self._rows.append(self._compute_one(c[0], c[1], c[2], c[3], c[4], th_t))
            else:
                pending.append(c)
        if pending:
            self._pl_t = np.array([p[0] for p in pending])
            self._pl_q = np.array([p[1] for p in pending])
            self._pl_rest = np.array([p[2] for p in pending])
            self._pl_sig = np.array([p[3] for p in pending])
            self._pl_gait = np.array([p[4] for p in pending])
        elif self._pl_t.size:
            self._pl_t, self._pl_q, self._pl_rest, self._pl_sig, self._pl_gait = (
                self._pl_t[:0],
                self._pl_q[:0],
                self._pl_rest[:0],
                self._pl_sig[:0],
                self._pl_gait[:0],
            )
        return len(self._rows)

    def _push_rows(self, block: AngleBlock) -> None:
        if len(block):
            cols = [block.t, *(getattr(block, c) for c in ANGLE_COLUMNS), block.flags]
            self._rows.extend(zip(*(c.tolist() for c in cols), strict=True))

    def drain(self) -> AngleBlock:
        """Angle rows produced by :meth:`push_pair` since the last call."""
        rows = self._rows
        if not rows:
            return AngleBlock.empty()
        arr = np.array(rows, dtype=np.float64)
        self._rows = []
        cols = dict(zip(("t", *ANGLE_COLUMNS), arr[:, :-1].T, strict=True))
        return AngleBlock(**cols, flags=arr[:, -1].astype(np.uint8))

    def _fast_path_ok(self, t_l: float, t_t: float) -> bool:
        f_l = self._filters.get(LUMBAR)
        f_t = self._filters.get(THORACIC)
        if f_l is None or f_t is None or f_l.last_t is None or f_t.last_t is None:
            return False
        if any(self._pending_raw.values()):
            return False
        if not (0 < t_l - f_l.last_t <= 1.5 * f_l.ts and 0 < t_t - f_t.last_t <= 1.5 * f_t.ts):
            return False  # a gap: the block path bridges or flags it
        if self._th_t.size == 0 or self._pl_t.size > 1:
            return False
        tt = (t_t - self.clock.offset_s) / (1.0 + self.clock.drift)
        first = self._pl_t[0] if self._pl_t.size else t_l
        # Every sample to emit now must lie inside the kept thoracic history.
        lo = self._th_t[max(0, self._th_t.size - 3)]
        return bool(first >= lo and (first <= tt or t_l > tt))

    def _compute_one(
        self,
        t: float,
        q_ls: tuple[float, ...],
        rest_l: bool,
        sig_l: float,
        gait_l: float,
        th_t: list[float],
    ) -> tuple[float, ...]:
        """Scalar twin of :meth:`_compute` for one lumbar sample inside the history."""
        s = self.settings
        model = self.model
        n = len(th_t)
        i = n - 2
        while i > 0 and th_t[i] > t:
            i -= 1
        t0, t1 = th_t[i], th_t[i + 1]
        span = t1 - t0
        valid = span <= s.max_gap_s + 1e-9 or t == t0 or t == t1
        idx = i + 1 if t >= t1 else i
        rest_t = bool(self._th_rest[idx])
        sig_t = float(self._th_sig[idx])
        filled = bool(self._th_filled[idx] or self._th_filled[min(idx + 1, n - 1)])
        q0 = tuple(self._th_q[i].tolist())
        q1 = tuple(self._th_q[i + 1].tolist())
        q_ts = S.slerp(q0, q1, (t - t0) / span if span > 0 else 0.0)
        q_l = S.qmul(q_ls, S.qconj(tuple(model.mount_lumbar.tolist())))  # type: ignore[arg-type]
        q_t = S.qmul(q_ts, S.qconj(tuple(model.mount_thoracic.tolist())))  # type: ignore[arg-type]
        incl_l = S.inclination_deg(q_l)
        incl_t = S.inclination_deg(q_t)
        guess = S.right_axis_heading(q_l) - S.right_axis_heading(q_t)
        lim = s.rezero_max_inclination_deg
        eligible = valid and rest_l and rest_t and abs(incl_l) < lim and abs(incl_t) < lim
        neutral_c = S.qconj(tuple(model.neutral.tolist()))  # type: ignore[arg-type]
        q_lc = S.qconj(q_l)

        def angles(d: float) -> tuple[float, float, float]:
            return S.zxy_deg(S.qmul(neutral_c, S.qmul(q_lc, S.qmul(S.yaw(d), q_t))))

        if self._delta is None and valid:
            self._delta = guess
            self._t_start = t
        # Heading uncertainty accumulates at the two filters' bias uncertainty (rad/s → deg).
        dt = 0.0 if self._t_prev is None else t - self._t_prev
        self._t_prev = t
        self._h_sum = self._h_sum + math.sqrt(sig_l * sig_l + sig_t * sig_t) * RAD2DEG * dt
        walking = (
            s.gait_anchors
            and valid
            and gait_l > GAIT_MIN_RMS
            and abs(incl_l) < lim
            and abs(incl_t) < lim
        )
        d_walk = None
        if walking or self._gait.active:
            d = 0.0
            if walking:
                d = guess
                for _ in range(3):
                    d = d - math.radians(angles(d)[2])
            d_walk = self._gait.step(t, walking, d)
        if eligible or d_walk is not None:
            if eligible:
                d = guess
                for _ in range(3):
                    d = d - math.radians(angles(d)[2])
            else:
                d = d_walk  # type: ignore[assignment]
            eligible = True
            d = math.atan2(math.sin(d), math.cos(d))
            guard = _guard_rad(s.rezero_guard_deg, self._h_sum, self._h_anchor)
            cur = self._delta
            if cur is None or abs((d - cur + math.pi) % (2 * math.pi) - math.pi) <= guard:
                self._delta = d
                self._t_rezero = t
                self._h_anchor = self._h_sum
            else:
                eligible = False
        ok = valid and self._delta is not None
        flags = 0
        if ok:
            flex, lat, rot = angles(self._delta)  # type: ignore[arg-type]
            if self._h_anchor is None:
                conf = 0.0
            else:
                h = self._h_sum - self._h_anchor
                e = 2.0 * math.sqrt(ANCHOR_SIGMA_DEG * ANCHOR_SIGMA_DEG + h * h)
                conf = 1.0 / (1.0 + (e / CONF_REF_DEG) * (e / CONF_REF_DEG))
            if filled:
                flags |= FLAG_FILLED
        else:
            flex = lat = rot = incl_t = math.nan
            conf = 0.0
            flags |= FLAG_GAP
        if eligible:
            flags |= FLAG_REZERO
        if not model.calibrated:
            flags |= FLAG_UNCALIBRATED
        return (t, flex, lat, rot, incl_t, incl_l, incl_l, conf, float(flags))

    # -- output ----------------------------------------------------------------------------
    def _emit(self, final: bool) -> AngleBlock:
        if self._pl_t.size == 0:
            return AngleBlock.empty()
        th_last = self._th_t[-1] if self._th_t.size else -np.inf
        if final:
            n = self._pl_t.size
        else:
            ready = (self._pl_t <= th_last) | (
                self._lumbar_last - self._pl_t > self.settings.hold_s
            )
            n = int(np.argmin(ready)) if not ready.all() else ready.size
        if n == 0:
            return AngleBlock.empty()
        t, q_ls, rest_l, sig_l = self._pl_t[:n], self._pl_q[:n], self._pl_rest[:n], self._pl_sig[:n]
        gait_l = self._pl_gait[:n]
        self._pl_t, self._pl_q, self._pl_rest = self._pl_t[n:], self._pl_q[n:], self._pl_rest[n:]
        self._pl_sig, self._pl_gait = self._pl_sig[n:], self._pl_gait[n:]
        out = self._compute(t, q_ls, rest_l, sig_l, gait_l)
        # Keep thoracic history from the bracket of the last emitted time on.
        if self._th_t.size > 2:
            k = max(0, int(np.searchsorted(self._th_t, t[-1], side="right")) - 2)
            self._th_t, self._th_q = self._th_t[k:], self._th_q[k:]
            self._th_rest, self._th_filled = self._th_rest[k:], self._th_filled[k:]
            self._th_sig = self._th_sig[k:]
        return out

    def _compute(
        self, t: F64, q_ls: F64, rest_l: NDArray[np.bool_], sig_l: F64, gait_l: F64
    ) -> AngleBlock:
        s = self.settings
        model = self.model
        q_ts, valid = interpolate_orientation(self._th_t, self._th_q, t, s.max_gap_s)
        n = t.size
        if self._th_t.size:
            idx = np.clip(np.searchsorted(self._th_t, t, side="right") - 1, 0, self._th_t.size - 1)
            rest_t = self._th_rest[idx]
            sig_t = self._th_sig[idx]
            nxt = np.minimum(idx + 1, self._th_t.size - 1)
            filled = self._th_filled[idx] | self._th_filled[nxt]
        else:
            rest_t = np.zeros(n, bool)
            sig_t = np.full(n, PREFUSED_SIGMA)
            filled = np.zeros(n, bool)
        q_l, q_t = A.segment_quats(q_ls, np.where(valid[:, None], q_ts, 1.0), model)
        incl_l = A.sagittal_inclination(q_l)
        incl_t_own = A.sagittal_inclination(q_t)
        # Relative heading: default guess aligns the two segments' right (Z) axes.
        guess = A.heading_of_right_axis(q_l) - A.heading_of_right_axis(q_t)
        lim = s.rezero_max_inclination_deg
        eligible = valid & rest_l & rest_t & (np.abs(incl_l) < lim) & (np.abs(incl_t_own) < lim)
        delta = np.full(n, np.nan)
        if self._delta is None:
            first_valid = np.flatnonzero(valid)
            if first_valid.size:
                j = int(first_valid[0])
                delta[j] = guess[j]
                self._delta = float(guess[j])
                self._t_start = float(t[j])
        h_sum = self._heading_sums(t, sig_l, sig_t)
        needed_all = np.full(n, np.nan)
        if eligible.any():
            needed_all[eligible] = A.rezero_delta(
                q_l[eligible], q_t[eligible], model.neutral, guess[eligible]
            )
        if s.gait_anchors:
            upright = valid & (np.abs(incl_l) < lim) & (np.abs(incl_t_own) < lim)
            walking = upright & (gait_l > GAIT_MIN_RMS)
            if walking.any() or self._gait.active:
                # Walking anchors: the stride-averaged correction (sequential; same steps as
                # the scalar path). Quiet standing wins where both apply.
                d = np.zeros(n)
                d[walking] = A.rezero_delta(
                    q_l[walking], q_t[walking], model.neutral, guess[walking]
                )
                step = self._gait.step
                for i, (ti, wi, di) in enumerate(
                    zip(t.tolist(), walking.tolist(), d.tolist(), strict=True)
                ):
                    res = step(ti, wi, di)
                    if res is not None and not eligible[i]:
                        needed_all[i] = res
                        eligible[i] = True
        if eligible.any():
            needed = needed_all[eligible]
            accepted = self._accept_rezero(needed, h_sum[eligible])
            idx = np.flatnonzero(eligible)
            eligible[idx[~accepted]] = False
            delta[idx[accepted]] = needed[accepted]
        # Forward-fill the heading correction.
        have = ~np.isnan(delta)
        pos = np.where(have, np.arange(n), -1)
        np.maximum.accumulate(pos, out=pos)
        prev_delta = np.nan if self._delta is None else self._delta
        delta_ff = np.where(pos >= 0, delta[np.maximum(pos, 0)], prev_delta)
        if have.any():
            self._delta = float(delta[np.flatnonzero(have)[-1]])
        if eligible.any():
            self._t_rezero = float(t[np.flatnonzero(eligible)[-1]])

        ok = valid & ~np.isnan(delta_ff)
        flex = np.full(n, np.nan)
        lat = np.full(n, np.nan)
        rot = np.full(n, np.nan)
        incl_t = np.full(n, np.nan)
        if ok.any():
            q_rel = A.relative(q_l[ok], q_t[ok], delta_ff[ok])
            flex[ok], lat[ok], rot[ok] = A.angles_from_relative(q_rel, model.neutral)
            incl_t[ok] = incl_t_own[ok]
        conf = np.where(ok, self._confidence(h_sum, eligible), 0.0)
        flags = np.zeros(n, np.uint8)
        flags[~ok] |= FLAG_GAP
        flags[filled & ok] |= FLAG_FILLED
        flags[eligible] |= FLAG_REZERO
        if not model.calibrated:
            flags |= FLAG_UNCALIBRATED
        return AngleBlock(t, flex, lat, rot, incl_t, incl_l, incl_l.copy(), conf, flags)

    def _heading_sums(self, t: F64, sig_l: F64, sig_t: F64) -> F64:
        """Running sum of the relative-heading drift rate × dt (deg) at each sample.

        A sequential ``cumsum`` seeded with the previous sum, in the same arithmetic as the
        scalar path in :meth:`_compute_one`, so any chunking gives the same numbers.
        """
        prev = np.concatenate(([self._t_prev if self._t_prev is not None else t[0]], t[:-1]))
        rate = np.sqrt(sig_l * sig_l + sig_t * sig_t) * RAD2DEG
        h_sum = np.cumsum(np.concatenate(([self._h_sum], rate * (t - prev))))[1:]
        self._t_prev = float(t[-1])
        self._h_sum = float(h_sum[-1])
        return h_sum

    def _confidence(self, h_sum: F64, anchor: NDArray[np.bool_]) -> F64:
        """Rotation confidence from the heading uncertainty accumulated since the last anchor."""
        apos = np.where(anchor, np.arange(h_sum.size), -1)
        np.maximum.accumulate(apos, out=apos)
        prev_anchor = np.nan if self._h_anchor is None else self._h_anchor
        h_anchor = np.where(apos >= 0, h_sum[np.maximum(apos, 0)], prev_anchor)
        if anchor.any():
            self._h_anchor = float(h_sum[np.flatnonzero(anchor)[-1]])
        h = h_sum - h_anchor
        e = 2.0 * np.sqrt(ANCHOR_SIGMA_DEG * ANCHOR_SIGMA_DEG + h * h)
        conf = 1.0 / (1.0 + (e / CONF_REF_DEG) * (e / CONF_REF_DEG))
        return np.where(np.isnan(h_anchor), 0.0, conf)

    def _accept_rezero(self, needed: F64, h_at: F64) -> NDArray[np.bool_]:
        """Accept re-zero candidates whose correction stays within the guard.

        A large apparent rotation while standing still is a real twist, not drift, unless
        the expected heading error is itself that large: the guard is the larger of
        ``rezero_guard_deg`` and the current expected error (so a long stretch without
        anchors cannot lock re-zeroing out). Sequential (each accepted sample moves the
        reference), looping over the candidates only; streaming and batch decide alike.
        """
        cur = self._delta
        ha = self._h_anchor
        out = np.zeros(needed.size, dtype=bool)
        for i, (d, h) in enumerate(zip(needed.tolist(), h_at.tolist(), strict=True)):
            guard = _guard_rad(self.settings.rezero_guard_deg, h, ha)
            if cur is None or abs((d - cur + math.pi) % (2 * math.pi) - math.pi) <= guard:
                out[i] = True
                cur = d
                ha = h
        return out


def _guard_rad(guard_deg: float, h_sum: float, h_anchor: float | None) -> float:
    """Largest heading correction a re-zero may make, rad: the guard or the expected error."""
    if h_anchor is None:
        return math.inf
    h = h_sum - h_anchor
    e = 2.0 * math.sqrt(ANCHOR_SIGMA_DEG * ANCHOR_SIGMA_DEG + h * h)
    return math.radians(max(guard_deg, e))


def stream_in_chunks(
    engine: PostureEngine, lumbar: ImuBlock, thoracic: ImuBlock, step_s: float = 0.02
) -> Iterator[tuple[float, AngleBlock]]:
    """Feed two recorded streams to ``engine`` as live BLE would: ``step_s`` notifications,
    thoracic then lumbar, interleaved by time. Yields ``(chunk end time, new angles)``; the
    last item holds what :meth:`PostureEngine.flush` released.
    """
    il = it = 0
    for edge in np.arange(lumbar.t[0] + step_s, lumbar.t[-1] + step_s, step_s):
        jl = int(np.searchsorted(lumbar.t, edge))
        jt = int(np.searchsorted(thoracic.t, edge))
        parts = []
        if jt > it:
            parts.append(engine.push(thoracic.take(slice(it, jt))))
        if jl > il:
            parts.append(engine.push(lumbar.take(slice(il, jl))))
        il, it = jl, jt
        yield float(edge), AngleBlock.concat(parts)
    yield float(lumbar.t[-1]), engine.flush()


def analyze(
    raw: Mapping[str, ImuBlock | OrientationBlock],
    model: A.SpineModel | None = None,
    settings: EngineSettings | None = None,
    clock: str = "auto",
) -> AngleBlock:
    """A whole recording through the live engine (what live would have shown).

    Same code path as streaming, so the numbers equal the live ones (tested). The best
    estimate of a recording is :func:`posture.batch.analyze_offline` (what ``analyze`` saves).
    Estimates nominal rates and, unless ``settings.clock`` is given, the thoracic clock map
    from the data (:func:`posture.alignment.choose_clock` with ``clock``).
    """
    for role in ROLES:
        if role not in raw or len(raw[role]) == 0:
            raise MissingSensorError(
                f"no {role} samples: spine angles need both the thoracic and the lumbar sensor"
            )
    s = settings or EngineSettings()
    lumbar, thoracic = raw[LUMBAR], raw[THORACIC]
    updates: dict[str, object] = {}
    if s.lumbar_rate_hz is None and isinstance(lumbar, ImuBlock):
        updates["lumbar_rate_hz"] = lumbar.nominal_rate()
    if s.thoracic_rate_hz is None and isinstance(thoracic, ImuBlock):
        updates["thoracic_rate_hz"] = thoracic.nominal_rate()
    if s.clock is None:
        if isinstance(lumbar, ImuBlock) and isinstance(thoracic, ImuBlock):
            updates["clock"] = choose_clock(lumbar, thoracic, clock)
        else:
            updates["clock"] = ClockMap()
    s = replace(s, **updates)  # type: ignore[arg-type]
    engine = PostureEngine(model, s)
    parts = [engine.push(thoracic), engine.push(lumbar), engine.flush()]
    return AngleBlock.concat(parts)
