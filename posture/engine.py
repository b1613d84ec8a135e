"""The posture engine: raw IMU blocks of two sensors in, calibrated spine angles out (live).

Pipeline per block: fuse each sensor (:mod:`posture.fusion`), map thoracic time onto the
lumbar clock (:mod:`posture.alignment`), slerp the thoracic orientation onto each lumbar time
stamp, apply the calibration's mountings and neutral (:mod:`posture.angles`), keep the
relative heading of the two 6D filters anchored (quiet upright standing; walking, by the
stride-averaged heading) with a rotation confidence from the expected heading error since
the last anchor (:mod:`posture.anchors`), and emit an :class:`~posture.records.AngleBlock`
on the lumbar sensor's own time stamps.

The module holds the orchestration (input, fusion, the waiting queue, emission); the angle math
has two twins — small blocks one sample at a time in Python floats
(:mod:`posture.engine_scalar`), large blocks with numpy (:mod:`posture.engine_block`) — that
give identical numbers, sharing the re-zero, confidence and flag rules of
:mod:`posture.rezero` with batch analysis; the state lives in :mod:`posture.engine_state`.

Any chunking gives identical numbers (tested); :func:`analyze` pushes a whole recording
through the engine to reproduce what live showed. The best estimate of a recording — what
``spinewatch analyze`` saves — is :func:`posture.batch.analyze_offline`, which also uses
the future.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from posture import angles as A
from posture import scalar_math as S
from posture.acc_correction import correct_block
from posture.alignment import ClockMap, choose_clock
from posture.anchors import GaitAverager
from posture.engine_block import angle_block
from posture.engine_scalar import (
    LumbarSample,
    ScalarContext,
    ScalarModel,
    angle_row,
    angle_rows,
    block_of_rows,
    column_rows,
)
from posture.engine_state import (
    PREFUSED_SIGMA,
    EngineSettings,
    HeadingState,
    LumbarQueue,
    ThoracicLists,
)
from posture.errors import MissingSensorError, PostureError
from posture.fusion import FusedLists, OrientationFilter, sensor_lever_arm
from posture.records import (
    ANGLE_COLUMNS,
    LUMBAR,
    ROLES,
    THORACIC,
    AngleBlock,
    ImuBlock,
    OrientationBlock,
)

F64 = NDArray[np.float64]
__all__ = ["PREFUSED_SIGMA", "EngineSettings", "PostureEngine", "analyze", "stream_in_chunks"]
#: Blocks of up to this many lumbar samples are computed one sample at a time in Python
#: floats (numpy's per-call overhead outweighs its speed on a few rows); larger ones with numpy.
SMALL_BLOCK = 24


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
        self._lumbar = LumbarQueue()  # lumbar orientations waiting for thoracic data
        self._thoracic = ThoracicLists()  # thoracic orientations on the lumbar clock
        self._heading = HeadingState()
        self._gait = GaitAverager()
        self._lumbar_last = -np.inf
        self._pending_raw: dict[str, list[ImuBlock]] = {r: [] for r in ROLES}
        self._rows: list[tuple[float, ...]] = []  # angle rows from push_pair, see drain()
        # Sensor accelerometer corrections, applied where raw samples enter (before fusion).
        corr = self.model.acc_correction or {}
        self._acc = {r: c for r, c in corr.items() if not c.is_identity}
        s = self.settings
        self._scalar = ScalarContext(
            ScalarModel.of(self.model),
            s.max_gap_s,
            s.rezero_max_inclination_deg,
            s.rezero_guard_deg,
            s.gait_anchors,
            PREFUSED_SIGMA,
            self._heading,
            self._gait,
        )

    # -- input -----------------------------------------------------------------------------
    def _filter(self, role: str, block: ImuBlock) -> OrientationFilter | None:
        f = self._filters.get(role)
        if f is None:
            rate = self._rates[role] or (block.nominal_rate() if len(block) >= 2 else None)
            if rate is None:
                return None
            # only the lumbar step-bounce RMS is read (walking anchors)
            f = OrientationFilter(rate, self.settings.fusion, role, gait=role == LUMBAR)
            if self.model.calibrated:
                # swing compensation needs the segment axes: only with a calibration
                mount = self.model.mount_lumbar if role == LUMBAR else self.model.mount_thoracic
                f.set_lever_arm(sensor_lever_arm(role, mount))
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
        if role in self._acc:
            block = correct_block(block, self._acc[role])
        f = self._filters.get(role)
        if f is not None and isinstance(block, ImuBlock) and not self._pending_raw[role]:
            fused = f.process_small(block)  # a live block: lists, no arrays in between
            if fused is not None:
                return self._push_lists(role, fused)
        ob = self._fuse(block)
        if ob is None or len(ob) == 0:
            return AngleBlock.empty()
        n = len(ob)
        rest = ob.rest if ob.rest is not None else np.zeros(n, bool)
        filled = ob.filled if ob.filled is not None else np.zeros(n, bool)
        sig = ob.bias_sigma if ob.bias_sigma is not None else np.full(n, PREFUSED_SIGMA)
        if role == LUMBAR:
            gait = ob.gait_rms if ob.gait_rms is not None else np.zeros(n)
            t, quat = ob.t, ob.quat
            # (a list test on a live block: numpy's any() costs more than its few samples)
            if True in filled.tolist() if n <= 32 else filled.any():
                # outputs stay on the lumbar sensor's own time stamps
                keep = ~filled
                t, quat, rest, sig, gait = t[keep], quat[keep], rest[keep], sig[keep], gait[keep]
            self._lumbar.append(t, quat, rest, sig, gait)
            self._lumbar_last = float(ob.t[-1])
        else:
            self._thoracic.append(self.clock.to_lumbar(ob.t), ob.quat, rest, filled, sig)
        return self._emit(final=False)

    def _push_lists(self, role: str, fused: FusedLists) -> AngleBlock:
        """:meth:`_push_block` after :meth:`OrientationFilter.process_small` (nothing
        filled): the same state changes and angles."""
        t, quats, rest, sigma, gait = fused
        if role != LUMBAR:
            self._thoracic.extend(self.clock.list_to_lumbar(t), quats, rest, sigma)
            return self._emit(final=False)
        self._lumbar_last = t[-1]
        gait = gait if gait is not None else [0.0] * len(t)
        th = self._thoracic.t
        if not len(self._lumbar) and len(t) <= SMALL_BLOCK and th and t[-1] <= th[-1]:
            # _emit's live case (thoracic data covers every sample) without the queue
            rows = column_rows(self._scalar, t, quats, rest, sigma, gait, self._thoracic)
            self._thoracic.keep_bracket_of(t[-1])
            return block_of_rows(rows)
        q = np.array(quats, dtype=np.float64).reshape(-1, 4)
        self._lumbar.append(np.array(t), q, np.array(rest, bool), np.array(sigma), np.array(gait))
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

        The live per-sample path: the same numbers as :meth:`push` at a fraction of
        the cost, because one-row numpy calls are mostly overhead
        (:mod:`posture.engine_scalar`). Unusual cases (gaps, start-up, a sensor running far
        ahead) fall back to :meth:`push`. New angle rows are collected; :meth:`drain`
        returns them as one block.

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
        tt, new = self._pair_fuse(
            t_lumbar, acc_lumbar, gyr_lumbar, t_thoracic, acc_thoracic, gyr_thoracic
        )
        pending = [new]
        if len(self._lumbar):
            q = self._lumbar
            pending.insert(
                0,
                LumbarSample(
                    float(q.t[0]),
                    S.as_quat(q.quat[0]),
                    bool(q.rest[0]),
                    float(q.sigma[0]),
                    float(q.gait[0]),
                ),
            )
        hist = self._thoracic
        waiting = []
        for lum in pending:
            if lum.t <= tt:
                self._rows.append(angle_row(self._scalar, lum, hist))
            else:
                waiting.append(lum)
        self._lumbar = LumbarQueue(
            np.array([w.t for w in waiting]),
            np.array([w.quat for w in waiting]).reshape(-1, 4),
            np.array([w.rest for w in waiting], bool),
            np.array([w.sigma for w in waiting]),
            np.array([w.gait for w in waiting]),
        )
        return len(self._rows)

    def _pair_fuse(
        self, t_l: float, acc_l: F64, gyr_l: F64, t_t: float, acc_t: F64, gyr_t: F64
    ) -> tuple[float, LumbarSample]:
        """Fuse one sample of each sensor; append the thoracic one to the history (last 3
        kept); return its lumbar-clock time and the lumbar sample."""
        f_l, f_t = self._filters[LUMBAR], self._filters[THORACIC]
        if self._acc:
            acc_l, acc_t = self._corrected(LUMBAR, acc_l), self._corrected(THORACIC, acc_t)
        q_t = f_t.update(gyr_t, acc_t, t=t_t)
        f_t.remember(t_t, acc_t, gyr_t)
        q_l = f_l.update(gyr_l, acc_l, t=t_l)
        f_l.remember(t_l, acc_l, gyr_l)
        tt = (t_t - self.clock.offset_s) / (1.0 + self.clock.drift)
        h = self._thoracic
        h.keep_from(max(0, len(h) - 3))
        h.append_one(tt, S.as_quat(q_t), f_t.rest, False, f_t.bias_sigma)
        self._lumbar_last = t_l
        lum = LumbarSample(t_l, S.as_quat(q_l), f_l.rest, f_l.bias_sigma, f_l.gait_rms)
        return tt, lum

    def _corrected(self, role: str, acc: F64) -> F64:
        c = self._acc.get(role)
        return acc if c is None else c.apply(np.asarray(acc, dtype=np.float64))

    def _push_rows(self, block: AngleBlock) -> None:
        if len(block):
            cols = [block.t, *(getattr(block, c) for c in ANGLE_COLUMNS), block.flags]
            self._rows.extend(zip(*(c.tolist() for c in cols), strict=True))

    def drain(self) -> AngleBlock:
        """Angle rows produced by :meth:`push_pair` since the last call."""
        rows, self._rows = self._rows, []
        return block_of_rows(rows)

    def _fast_path_ok(self, t_l: float, t_t: float) -> bool:
        f_l = self._filters.get(LUMBAR)
        f_t = self._filters.get(THORACIC)
        if f_l is None or f_t is None or f_l.last_t is None or f_t.last_t is None:
            return False
        if any(self._pending_raw.values()):
            return False
        if not (0 < t_l - f_l.last_t <= 1.5 * f_l.ts and 0 < t_t - f_t.last_t <= 1.5 * f_t.ts):
            return False  # a gap: the block path bridges or flags it
        th, q = self._thoracic, self._lumbar
        if len(th) == 0 or len(q) > 1:
            return False
        tt = (t_t - self.clock.offset_s) / (1.0 + self.clock.drift)
        first = q.t[0] if len(q) else t_l
        # Every sample to emit now must lie inside the kept thoracic history.
        lo = th.t[max(0, len(th) - 3)]
        return bool(first >= lo and (first <= tt or t_l > tt))

    # -- output ----------------------------------------------------------------------------
    def _emit(self, final: bool) -> AngleBlock:
        q = self._lumbar
        if not len(q):
            return AngleBlock.empty()
        if final:
            n = len(q)
        else:
            th = self._thoracic.t
            th_last = th[-1] if th else -np.inf
            if len(q) <= 8 and all(x <= th_last for x in q.t.tolist()):
                n = len(q)  # the live case (thoracic data covers every waiting sample), no arrays
            else:
                ready = q.t <= th_last
                ready |= self._lumbar_last - q.t > self.settings.hold_s
                n = int(np.argmin(ready)) if not ready.all() else ready.size
        if n == 0:
            return AngleBlock.empty()
        out = self._compute(q.pop(n))
        self._thoracic.keep_bracket_of(float(out.t[-1]))
        return out

    def _compute(self, lum: LumbarQueue) -> AngleBlock:
        """Angles of lumbar samples: small blocks one sample at a time in Python floats,
        large ones with numpy; the two give identical numbers (:mod:`posture.engine_scalar`)."""
        if len(lum) <= SMALL_BLOCK:
            return block_of_rows(angle_rows(self._scalar, lum, self._thoracic))
        return angle_block(
            lum, self._thoracic.arrays(), self._heading, self._gait, self.model, self.settings
        )


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
    lumbar, thoracic = raw[LUMBAR], raw[THORACIC]
    engine = PostureEngine(model, _resolved(settings or EngineSettings(), lumbar, thoracic, clock))
    parts = [engine.push(thoracic), engine.push(lumbar), engine.flush()]
    return AngleBlock.concat(parts)


def _resolved(
    s: EngineSettings,
    lumbar: ImuBlock | OrientationBlock,
    thoracic: ImuBlock | OrientationBlock,
    clock: str,
) -> EngineSettings:
    """Settings with the rates and the clock map that were left open estimated from the data."""
    l_rate, t_rate, cmap = s.lumbar_rate_hz, s.thoracic_rate_hz, s.clock
    if l_rate is None and isinstance(lumbar, ImuBlock):
        l_rate = lumbar.nominal_rate()
    if t_rate is None and isinstance(thoracic, ImuBlock):
        t_rate = thoracic.nominal_rate()
    if cmap is None and isinstance(lumbar, ImuBlock) and isinstance(thoracic, ImuBlock):
        cmap = choose_clock(lumbar, thoracic, clock)
    return replace(s, lumbar_rate_hz=l_rate, thoracic_rate_hz=t_rate, clock=cmap or ClockMap())
