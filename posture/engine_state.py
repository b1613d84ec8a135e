"""The live engine's settings and state: what waits, what is remembered, where the heading is.

:class:`EngineSettings` are the engine's settings. :class:`~posture.engine.PostureEngine`
keeps three pieces of explicit state between blocks
(as vqf groups its filter state): the lumbar samples waiting for thoracic data
(:class:`LumbarQueue`), the thoracic history on the lumbar clock that the next lumbar samples
are interpolated from (:class:`ThoracicHistory`), and the relative heading with its drift
since the last anchor (:class:`HeadingState`). Arrays are columns, one row per sample.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from posture.alignment import ClockMap, interpolate_orientation
from posture.anchors import PAUSE_MAX_VAR, PAUSE_MIN_S
from posture.fusion import FusionSettings
from posture.libm import NUMPY, Trig
from posture.rezero import pause_step, predicted

F64 = NDArray[np.float64]
B = NDArray[np.bool_]
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


def _f64() -> F64:
    return np.zeros(0)


def _quats() -> F64:
    return np.zeros((0, 4))


def _bool() -> B:
    return np.zeros(0, bool)


def _empty_queue_columns() -> tuple[F64, F64, B, F64, F64]:
    cols = (np.zeros(0), np.zeros((0, 4)), np.zeros(0, bool), np.zeros(0), np.zeros(0))
    for c in cols:
        c.setflags(write=False)
    return cols


# Shared empty columns (never written: appends build new arrays).
_EMPTY_QUEUE = _empty_queue_columns()


@dataclass
class LumbarQueue:
    """Lumbar orientations waiting for thoracic data: times (s, lumbar clock), sensor
    quaternions ``(N, 4)``, VQF rest flags, gyro-bias uncertainty (rad/s), gait RMS (m/s²)."""

    t: F64 = field(default_factory=_f64)
    quat: F64 = field(default_factory=_quats)
    rest: B = field(default_factory=_bool)
    sigma: F64 = field(default_factory=_f64)
    gait: F64 = field(default_factory=_f64)

    def __len__(self) -> int:
        return len(self.t)

    def append(self, t: F64, quat: F64, rest: B, sigma: F64, gait: F64) -> None:
        if not len(self):  # the live case: the queue was emptied by the last block
            self.t, self.quat, self.rest, self.sigma, self.gait = t, quat, rest, sigma, gait
            return
        self.t = np.concatenate((self.t, t))
        self.quat = np.concatenate((self.quat, quat))
        self.rest = np.concatenate((self.rest, rest))
        self.sigma = np.concatenate((self.sigma, sigma))
        self.gait = np.concatenate((self.gait, gait))

    def pop(self, n: int) -> LumbarQueue:
        """Remove and return the first ``n`` samples."""
        if n == len(self):  # the live case: everything waiting goes
            head = LumbarQueue(self.t, self.quat, self.rest, self.sigma, self.gait)
            self.t, self.quat, self.rest, self.sigma, self.gait = _EMPTY_QUEUE
            return head
        head = LumbarQueue(self.t[:n], self.quat[:n], self.rest[:n], self.sigma[:n], self.gait[:n])
        self.t, self.quat, self.rest = self.t[n:], self.quat[n:], self.rest[n:]
        self.sigma, self.gait = self.sigma[n:], self.gait[n:]
        return head


@dataclass(frozen=True)
class ThoracicAt:
    """Thoracic data at lumbar time stamps: slerped quaternions ``(N, 4)`` (NaN where not
    ``valid``), and the rest flag, bias uncertainty and filled flag of the bracketing samples."""

    quat: F64
    valid: B
    rest: B
    sigma: F64
    filled: B


@dataclass
class ThoracicHistory:
    """Thoracic orientations on the lumbar clock: times (s), quaternions ``(N, 4)``, rest flags,
    filled flags (bridged gap samples), gyro-bias uncertainty (rad/s)."""

    t: F64 = field(default_factory=_f64)
    quat: F64 = field(default_factory=_quats)
    rest: B = field(default_factory=_bool)
    filled: B = field(default_factory=_bool)
    sigma: F64 = field(default_factory=_f64)

    def __len__(self) -> int:
        return len(self.t)

    def at(self, t: F64, max_gap_s: float, prefused_sigma: float, trig: Trig = NUMPY) -> ThoracicAt:
        """Slerp onto lumbar times ``t`` (never across a gap over ``max_gap_s``) and look up
        the bracketing samples' flags; ``prefused_sigma`` stands in before any history."""
        q, valid = interpolate_orientation(self.t, self.quat, t, max_gap_s, trig)
        n = len(self)
        if not n:
            m = t.shape[0]
            return ThoracicAt(
                q, valid, np.zeros(m, bool), np.full(m, prefused_sigma), np.zeros(m, bool)
            )
        idx = np.searchsorted(self.t, t, side="right") - 1
        np.clip(idx, 0, n - 1, out=idx)
        nxt = np.minimum(idx + 1, n - 1)
        return ThoracicAt(
            q, valid, self.rest[idx], self.sigma[idx], self.filled[idx] | self.filled[nxt]
        )


@dataclass
class ThoracicLists:
    """The live engine's thoracic history (as :class:`ThoracicHistory`) in Python lists, one
    per column, quaternions as 4-tuples.

    The engine keeps only the few samples that bracket the next lumbar ones and reads them one
    at a time in Python floats (:mod:`posture.engine_scalar`); lists make the per-block append,
    trim and read cheaper than numpy's per-call overhead on arrays of a few rows.
    :meth:`arrays` gives the numpy form for large blocks (:mod:`posture.engine_block`).
    """

    t: list[float] = field(default_factory=list)
    quat: list[tuple[float, float, float, float]] = field(default_factory=list)
    rest: list[bool] = field(default_factory=list)
    filled: list[bool] = field(default_factory=list)
    sigma: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.t)

    def append(self, t: F64, quat: F64, rest: B, filled: B, sigma: F64) -> None:
        """Add samples: times on the lumbar clock (s) ``(N,)``, quaternions ``(N, 4)``, rest
        and filled flags, gyro-bias uncertainty (rad/s)."""
        self.t += t.tolist()
        self.quat += [(w, x, y, z) for w, x, y, z in quat.tolist()]
        self.rest += rest.tolist()
        self.filled += filled.tolist()
        self.sigma += sigma.tolist()

    def append_one(
        self,
        t: float,
        quat: tuple[float, float, float, float],
        rest: bool,
        filled: bool,
        sigma: float,
    ) -> None:
        """Add one sample (the per-pair path: no arrays to make and list again)."""
        self.t.append(t)
        self.quat.append(quat)
        self.rest.append(rest)
        self.filled.append(filled)
        self.sigma.append(sigma)

    def extend(
        self,
        t: list[float],
        quat: list[tuple[float, float, float, float]],
        rest: list[bool],
        sigma: list[float],
    ) -> None:
        """:meth:`append` of samples given as lists, none of them filled (a live block)."""
        self.t += t
        self.quat += quat
        self.rest += rest
        self.filled += [False] * len(t)
        self.sigma += sigma

    def keep_from(self, k: int) -> None:
        """Forget the samples before index ``k``."""
        if k > 0:
            del self.t[:k], self.quat[:k], self.rest[:k], self.filled[:k], self.sigma[:k]

    def keep_bracket_of(self, t_last: float) -> None:
        """Keep the history from the bracket of ``t_last`` (the last emitted time) on."""
        if len(self.t) > 2:
            self.keep_from(bisect.bisect_right(self.t, t_last) - 2)

    def arrays(self) -> ThoracicHistory:
        """The same history as numpy columns."""
        return ThoracicHistory(
            np.array(self.t, dtype=np.float64),
            np.array(self.quat, dtype=np.float64).reshape(-1, 4),
            np.array(self.rest, dtype=bool),
            np.array(self.filled, dtype=bool),
            np.array(self.sigma, dtype=np.float64),
        )


@dataclass
class HeadingState:
    """The relative heading of the two 6D filters and how far it may have drifted.

    Attributes:
        delta: heading correction at the last anchor (or the start guess), rad (``None``
            before the first valid sample).
        t_delta: time of ``delta``, s; rate: estimated drift rate of the relative heading,
            rad/s (:func:`posture.rezero.track_rate`). The correction in force at time ``t``
            is ``delta + rate·min(t − t_delta, 45 s)`` (:func:`posture.rezero.predicted`).
        drift: running sum of the relative-heading error variance rate × dt, deg²
            (:func:`posture.anchors.heading_variance_rate`).
        drift_at_anchor: ``drift`` at the last accepted anchor (``None``: no anchor yet); the
            expected rotation error follows from ``drift − drift_at_anchor``.
        t_prev: time of the last sample added to ``drift``, s.
        t_hinge: time of the last sample with the trunk in a hinge, s
            (:data:`posture.anchors.PAUSE_HINGE_DEG`).
        p_n, p_t0, p_t1, p_ref, p_s1, p_s2: the pause being summed (:meth:`pause_add`):
            samples, first and last time (s), first correction (rad), sums of the corrections
            relative to it and of their squares (rad, rad²).
    """

    delta: float | None = None
    t_delta: float = 0.0
    rate: float = 0.0
    drift: float = 0.0
    drift_at_anchor: float | None = None
    t_prev: float | None = None
    t_hinge: float = -math.inf
    p_n: int = 0
    p_t0: float = 0.0
    p_t1: float = 0.0
    p_ref: float = 0.0
    p_s1: float = 0.0
    p_s2: float = 0.0

    def pause_add(self, t: float, d: float) -> None:
        """Add a pause sample at time ``t`` (s) that needs correction ``d`` (rad)."""
        if self.p_n == 0:
            self.p_t0, self.p_ref, self.p_s1, self.p_s2 = t, d, 0.0, 0.0
        x = (d - self.p_ref + math.pi) % (2 * math.pi) - math.pi
        self.p_n += 1
        self.p_s1 += x
        self.p_s2 += x * x
        self.p_t1 = t

    def pause_end(self) -> float | None:
        """End the pause being summed: its mean correction (rad) if it lasted and held still
        enough to be an anchor, else ``None``."""
        n = self.p_n
        if n == 0:
            return None
        self.p_n = 0
        if self.p_t1 - self.p_t0 < PAUSE_MIN_S:
            return None
        m = self.p_s1 / n
        if self.p_s2 / n - m * m > PAUSE_MAX_VAR:
            return None
        return self.p_ref + m

    def pause_apply(self, t: float, d: float, drift: float) -> bool:
        """Weigh in a pause anchor ``d`` (rad) at time ``t`` (s) and running drift ``drift``
        (deg²) (:func:`posture.rezero.pause_step`, as the array path); whether it was taken."""
        upd = pause_step(d, t, drift, self.delta, self.t_delta, self.rate, self.drift_at_anchor)
        if upd is None:
            return False
        self.delta, self.drift_at_anchor = upd
        return True

    def at(self, t: float) -> float | None:
        """The heading correction in force at time ``t``, rad (``None`` before any)."""
        return None if self.delta is None else predicted(self.delta, self.t_delta, self.rate, t)

    def drift_sums(self, t: F64, rate_deg_s: F64) -> F64:
        """Add samples at times ``t`` with variance rates ``rate_deg_s`` (deg²/s); return the
        running drift at each. A sequential ``cumsum`` seeded with the previous sum, in the
        same arithmetic as the per-sample loop of :func:`posture.engine_scalar._rows`, so any
        chunking gives the same numbers."""
        prev = np.concatenate(([self.t_prev if self.t_prev is not None else t[0]], t[:-1]))
        sums = np.cumsum(np.concatenate(([self.drift], rate_deg_s * (t - prev))))[1:]
        self.t_prev = float(t[-1])
        self.drift = float(sums[-1])
        return sums
