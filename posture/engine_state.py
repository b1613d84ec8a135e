"""The live engine's state, grouped: what waits, what is remembered, where the heading stands.

:class:`~posture.engine.PostureEngine` keeps three pieces of explicit state between blocks
(as vqf groups its filter state): the lumbar samples waiting for thoracic data
(:class:`LumbarQueue`), the thoracic history on the lumbar clock that the next lumbar samples
are interpolated from (:class:`ThoracicHistory`), and the relative heading with its drift
since the last anchor (:class:`HeadingState`). Arrays are columns, one row per sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from posture.alignment import interpolate_orientation
from posture.libm import NUMPY, Trig

F64 = NDArray[np.float64]
B = NDArray[np.bool_]


def _f64() -> F64:
    return np.zeros(0)


def _quats() -> F64:
    return np.zeros((0, 4))


def _bool() -> B:
    return np.zeros(0, bool)


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
        return int(self.t.shape[0])

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
        return int(self.t.shape[0])

    def append(self, t: F64, quat: F64, rest: B, filled: B, sigma: F64) -> None:
        self.t = np.concatenate((self.t, t))
        self.quat = np.concatenate((self.quat, quat))
        self.rest = np.concatenate((self.rest, rest))
        self.filled = np.concatenate((self.filled, filled))
        self.sigma = np.concatenate((self.sigma, sigma))

    def keep_from(self, k: int) -> None:
        """Forget the samples before index ``k``."""
        self.t, self.quat, self.rest = self.t[k:], self.quat[k:], self.rest[k:]
        self.filled, self.sigma = self.filled[k:], self.sigma[k:]

    def keep_bracket_of(self, t_last: float) -> None:
        """Keep the history from the bracket of ``t_last`` (the last emitted time) on."""
        if len(self) > 2:
            self.keep_from(max(0, int(np.searchsorted(self.t, t_last, side="right")) - 2))

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
class HeadingState:
    """The relative heading of the two 6D filters and how far it may have drifted.

    Attributes:
        delta: heading correction in force, rad (``None`` before the first valid sample).
        drift: running sum of the relative-heading drift rate × dt, deg (1σ).
        drift_at_anchor: ``drift`` at the last accepted anchor (``None``: no anchor yet); the
            expected rotation error follows from ``drift − drift_at_anchor``.
        t_prev: time of the last sample added to ``drift``, s.
    """

    delta: float | None = None
    drift: float = 0.0
    drift_at_anchor: float | None = None
    t_prev: float | None = None

    def drift_sums(self, t: F64, rate_deg_s: F64) -> F64:
        """Add samples at times ``t`` with drift rates ``rate_deg_s`` (deg/s); return the
        running drift at each. A sequential ``cumsum`` seeded with the previous sum, in the
        same arithmetic as :meth:`drift_one`, so any chunking gives the same numbers."""
        prev = np.concatenate(([self.t_prev if self.t_prev is not None else t[0]], t[:-1]))
        sums = np.cumsum(np.concatenate(([self.drift], rate_deg_s * (t - prev))))[1:]
        self.t_prev = float(t[-1])
        self.drift = float(sums[-1])
        return sums

    def drift_one(self, t: float, rate_deg_s: float) -> float:
        """:meth:`drift_sums` for one sample."""
        dt = 0.0 if self.t_prev is None else t - self.t_prev
        self.t_prev = t
        self.drift = self.drift + rate_deg_s * dt
        return self.drift
