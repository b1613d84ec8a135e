"""The posture engine: raw IMU blocks of two sensors in, calibrated spine angles out.

Pipeline per block: fuse each sensor (:mod:`posture.fusion`), map thoracic time onto the
lumbar clock (:mod:`posture.alignment`), slerp the thoracic orientation onto each lumbar time
stamp, apply the calibration's mountings and neutral (:mod:`posture.angles`), keep the
relative heading of the two 6D filters re-zeroed during quiet upright standing, and emit an
:class:`~posture.records.AngleBlock` on the lumbar sensor's own time stamps.

Streaming and batch are the same code: :func:`analyze` pushes whole recordings through a
:class:`PostureEngine`, so both give identical numbers (tested).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from posture import angles as A
from posture.alignment import ClockMap, estimate_clock_map, interpolate_orientation
from posture.errors import MissingSensorError, PostureError
from posture.fusion import FusionSettings, OrientationFilter
from posture.records import (
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
        rotation_confidence_tau_s: time constant of the rotation confidence decay, s.
        rezero_guard_deg: largest heading correction accepted by a re-zero, deg (a larger
            apparent rotation while standing still is a real twist, not drift).
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
        # Thoracic history on the lumbar clock: t, quat, rest, filled.
        self._th_t = np.zeros(0)
        self._th_q = np.zeros((0, 4))
        self._th_rest = np.zeros(0, bool)
        self._th_filled = np.zeros(0, bool)
        self._lumbar_last = -np.inf
        self._delta: float | None = None
        self._t_rezero: float | None = None
        self._t_start: float | None = None
        self._last_valid_delta_t = -np.inf

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

    _pending_raw: dict[str, list[ImuBlock]]

    def push(self, block: ImuBlock | OrientationBlock) -> AngleBlock:
        """Add samples of one sensor (role in ``block.sensor``); return newly ready angles.

        Pre-fused orientation blocks (sensors that fuse on board) are accepted in place of
        raw samples.
        """
        if not hasattr(self, "_pending_raw"):
            self._pending_raw = {r: [] for r in ROLES}
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
        if role == LUMBAR:
            keep = ~filled  # outputs stay on the lumbar sensor's own time stamps
            self._pl_t = np.concatenate((self._pl_t, ob.t[keep]))
            self._pl_q = np.vstack((self._pl_q, ob.quat[keep]))
            self._pl_rest = np.concatenate((self._pl_rest, rest[keep]))
            self._lumbar_last = float(ob.t[-1])
        else:
            self._th_t = np.concatenate((self._th_t, self.clock.to_lumbar(ob.t)))
            self._th_q = np.vstack((self._th_q, ob.quat))
            self._th_rest = np.concatenate((self._th_rest, rest))
            self._th_filled = np.concatenate((self._th_filled, filled))
        return self._emit(final=False)

    def flush(self) -> AngleBlock:
        """Emit every pending lumbar sample (as gaps where thoracic data never came)."""
        return self._emit(final=True)

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
        t, q_ls, rest_l = self._pl_t[:n], self._pl_q[:n], self._pl_rest[:n]
        self._pl_t, self._pl_q, self._pl_rest = self._pl_t[n:], self._pl_q[n:], self._pl_rest[n:]
        out = self._compute(t, q_ls, rest_l)
        # Keep thoracic history from the bracket of the last emitted time on.
        if self._th_t.size > 2:
            k = max(0, int(np.searchsorted(self._th_t, t[-1], side="right")) - 2)
            self._th_t, self._th_q = self._th_t[k:], self._th_q[k:]
            self._th_rest, self._th_filled = self._th_rest[k:], self._th_filled[k:]
        return out

    def _compute(self, t: F64, q_ls: F64, rest_l: NDArray[np.bool_]) -> AngleBlock:
        s = self.settings
        model = self.model
        q_ts, valid = interpolate_orientation(self._th_t, self._th_q, t, s.max_gap_s)
        n = t.size
        if self._th_t.size:
            idx = np.clip(np.searchsorted(self._th_t, t, side="right") - 1, 0, self._th_t.size - 1)
            rest_t = self._th_rest[idx]
            nxt = np.minimum(idx + 1, self._th_t.size - 1)
            filled = self._th_filled[idx] | self._th_filled[nxt]
        else:
            rest_t = np.zeros(n, bool)
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
        if eligible.any():
            needed = A.rezero_delta(q_l[eligible], q_t[eligible], model.neutral, guess[eligible])
            accepted = self._accept_rezero(needed)
            idx = np.flatnonzero(eligible)
            eligible[idx[~accepted]] = False
            delta[idx[accepted]] = needed[accepted]
        # Forward-fill the heading correction and the re-zero time.
        have = ~np.isnan(delta)
        pos = np.where(have, np.arange(n), -1)
        np.maximum.accumulate(pos, out=pos)
        prev_delta = np.nan if self._delta is None else self._delta
        delta_ff = np.where(pos >= 0, delta[np.maximum(pos, 0)], prev_delta)
        rz = np.where(eligible, t, np.nan)
        rpos = np.where(eligible, np.arange(n), -1)
        np.maximum.accumulate(rpos, out=rpos)
        prev_rz = np.nan if self._t_rezero is None else self._t_rezero
        t_rz = np.where(rpos >= 0, rz[np.maximum(rpos, 0)], prev_rz)
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
        tau = s.rotation_confidence_tau_s
        t0 = self._t_start if self._t_start is not None else float(t[0])
        conf = np.where(
            np.isnan(t_rz),
            0.5 * np.exp(-np.maximum(t - t0, 0.0) / tau),
            np.exp(-np.maximum(t - np.nan_to_num(t_rz), 0.0) / tau),
        )
        conf = np.where(ok, conf, 0.0)
        flags = np.zeros(n, np.uint8)
        flags[~ok] |= FLAG_GAP
        flags[filled & ok] |= FLAG_FILLED
        flags[eligible] |= FLAG_REZERO
        if not model.calibrated:
            flags |= FLAG_UNCALIBRATED
        return AngleBlock(t, flex, lat, rot, incl_t, incl_l, incl_l.copy(), conf, flags)

    def _accept_rezero(self, needed: F64) -> NDArray[np.bool_]:
        """Accept re-zero candidates whose correction stays within the guard.

        Heading drift between re-zeros is slow (well under a degree a minute), so a large
        apparent rotation while standing still is a real twist and is kept, not zeroed. The
        decision is sequential (each accepted sample moves the reference), but it loops only
        over the candidate samples, and both streaming and batch take the same decisions.
        """
        guard = np.radians(self.settings.rezero_guard_deg)
        cur = self._delta
        out = np.zeros(needed.size, dtype=bool)
        for i, d in enumerate(needed.tolist()):
            if cur is None or abs((d - cur + np.pi) % (2 * np.pi) - np.pi) <= guard:
                out[i] = True
                cur = d
        return out


def analyze(
    raw: Mapping[str, ImuBlock | OrientationBlock],
    model: A.SpineModel | None = None,
    settings: EngineSettings | None = None,
) -> AngleBlock:
    """Batch analysis of a whole recording (same code path as streaming).

    Estimates nominal rates and, unless ``settings.clock`` is given, the thoracic clock map
    from the data (:func:`posture.alignment.estimate_clock_map`).
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
            updates["clock"] = estimate_clock_map(lumbar, thoracic)
        else:
            updates["clock"] = ClockMap()
    s = replace(s, **updates)  # type: ignore[arg-type]
    engine = PostureEngine(model, s)
    parts = [engine.push(thoracic), engine.push(lumbar), engine.flush()]
    return AngleBlock.concat(parts)
