"""A simulated wearer as a :class:`~firmware_bridge.api.SampleSource`, without any radio.

The light-weight twin of the BLE simulated peripherals: it paces a wearer simulation to a
clock (wall clock by default, any callable in tests) and hands out 20 ms blocks per role, as
the bridge would after notification decoding and clock mapping. Both roles share one
(simulated host) time base, the simulation's own time stamps. A sensor can be made to drop
out for a while (``lose``) to exercise the lost/reconnecting states. Like the real sensors, it
delivers int16 counts times the sensor's scale (the spinewatch firmware's ±16 g, ±2000 °/s,
0.1 µT), not the simulation's unquantised values (``counts=False`` keeps those).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from firmware_bridge.api import Block, LinkState, LinkStatus
from firmware_bridge.profiles.spinewatch import MAG_LSB_UT, G
from posture.records import ROLES, ImuBlock
from sim.clock import loop_clock
from sim.wearer import SimConfig, SimResult, simulate


def as_counts(b: ImuBlock, acc_fs_g: int = 16, gyr_fs_dps: int = 2000) -> ImuBlock:
    """The block as a spinewatch sensor delivers it: int16 counts (saturating) times the LSB,
    computed exactly as the packet decoder does (so sessions can store the counts)."""

    def q(a: NDArray[np.float64], lsb: float) -> NDArray[np.float64]:
        counts = np.clip(np.rint(a / lsb), -32768, 32767).astype(np.int16)
        return counts * np.float64(lsb)

    mag = None if b.mag is None else q(b.mag, MAG_LSB_UT)
    acc = q(b.acc, acc_fs_g * G / 32768.0)
    return ImuBlock(b.sensor, b.t, acc, q(b.gyr, np.deg2rad(gyr_fs_dps) / 32768.0), mag, b.seq)


class SimulatedSource:
    """Stream a simulated wearer in real time (or ``speed`` × faster; 0 = as fast as read).

    Args:
        script: simulator script name (``"lifting-session"``, ``"calibration"``, ...).
        seconds: duration to simulate (None = the script's own length).
        config: simulator settings; clock offset/drift are forced to zero because a live
            bridge delivers host time.
        speed: playback speed; 0 delivers ``burst_s`` of data per :meth:`read`.
        chunk_s: notification period, s.
        lose: ``{role: (at_s, for_s)}``: the role's sensor goes silent ``at_s`` after the
            start for ``for_s`` seconds, then reconnects.
        clock: a monotonic clock, s (default: the running event loop's, which is
            ``time.monotonic`` on a real loop and simulated time on a ``SimulatedTimeLoop``).
        result: a pre-computed ``SimResult`` to stream instead of simulating.
        counts: quantise the samples to sensor counts (``result.raw`` then holds what is sent).
    """

    def __init__(
        self,
        script: str = "lifting-session",
        seconds: float | None = 60.0,
        config: SimConfig | None = None,
        *,
        speed: float = 1.0,
        chunk_s: float = 0.02,
        burst_s: float = 1.0,
        lose: Mapping[str, tuple[float, float]] | None = None,
        clock: Callable[[], float] = loop_clock,
        result: SimResult | None = None,
        counts: bool = True,
    ) -> None:
        cfg = config or SimConfig(seed=7)
        cfg = SimConfig(**{**cfg.__dict__, "clock_offset_s": 0.0, "clock_drift_ppm": 0.0})
        res = result if result is not None else simulate(script, cfg, duration_s=seconds)
        if counts:
            q = {r: as_counts(b) for r, b in res.raw.items()}
            res = dataclasses.replace(res, raw=q)
        self.result = res
        raw: dict[str, ImuBlock] = self.result.raw
        self._raw = raw
        self._rates = {r: b.nominal_rate() for r, b in raw.items()}
        self._speed = speed
        self._chunk = chunk_s
        self._burst = burst_s
        self._lose = dict(lose or {})
        self._clock = clock
        self.t0 = float(min(b.t[0] for b in raw.values()))
        self.t_end = float(max(b.t[-1] for b in raw.values()))
        self._sent = dict.fromkeys(ROLES, 0)
        self._edge = self.t0
        self._wall0: float | None = None
        self._status = {
            r: LinkStatus(r, LinkState.IDLE, address=f"SIM:{i:02d}", name=f"sim-{r}")
            for i, r in enumerate(ROLES)
        }
        self._last_seq: dict[str, int] = {}
        self.signals: list[tuple[float, str, str]] = []  # (sim time, role, pattern) sent

    @property
    def rates_hz(self) -> dict[str, float]:
        return dict(self._rates)

    @property
    def finished(self) -> bool:
        return self._edge >= self.t_end

    @property
    def now_s(self) -> float:
        """The simulated host time delivered up to, s."""
        return self._edge

    async def start(self) -> None:
        self._wall0 = self._clock()
        for r in ROLES:
            self._set(r, LinkState.STREAMING, "simulated wearer")

    async def stop(self) -> None:
        for r in ROLES:
            self._set(r, LinkState.STOPPED)

    async def signal(self, role: str, pattern: str = "alert") -> bool:
        self.signals.append((self._edge, role, pattern))
        return True

    def taps(self) -> list[tuple[str, float]]:
        return []  # simulated sensors are never tapped

    def status(self) -> dict[str, LinkStatus]:
        return dict(self._status)

    def _set(self, role: str, state: LinkState, message: str = "", **kw: Any) -> None:
        """A new status snapshot with ``kw`` (:class:`LinkStatus` fields) changed."""
        old = self._status[role]
        if old.state != state or kw:
            since = self._edge if old.state != state else old.since_s
            self._status[role] = dataclasses.replace(
                old, state=state, message=message, since_s=since, **kw
            )

    def caught_up(self) -> bool:
        """Whether every chunk up to the current (paced) time has been read."""
        target = min(self._target(), self.t_end + self._chunk)
        return self._edge + self._chunk > target + 1e-12

    def _target(self) -> float:
        if self._wall0 is None:
            return self._edge  # not started
        if self._speed <= 0:
            return self._edge + self._burst
        return self.t0 + (self._clock() - self._wall0) * self._speed

    def read(self) -> list[Block]:
        """Blocks up to the current (paced) time, one per role and notification period."""
        target = min(self._target(), self.t_end + self._chunk)
        out: list[Block] = []
        while self._edge + self._chunk <= target + 1e-12:
            self._edge += self._chunk
            for role in ROLES:
                out.extend(self._emit(role, self._edge))
        return out

    def _emit(self, role: str, edge: float) -> list[Block]:
        b = self._raw[role]
        i0 = self._sent[role]
        i1 = int(np.searchsorted(b.t, edge, side="left"))
        self._sent[role] = i1
        lost = self._lose.get(role)
        if lost is not None:
            a, d = self.t0 + lost[0], self.t0 + lost[0] + lost[1]
            if a <= edge < d:
                self._set(role, LinkState.LOST, "no data from the sensor")
                return []
            if edge >= d and self._status[role].state == LinkState.LOST:
                st = self._status[role]
                self._set(role, LinkState.STREAMING, "", reconnects=st.reconnects + 1)
        if i1 <= i0:
            return []
        blk = b.take(slice(i0, i1))
        st = self._status[role]
        seq = blk.seq if blk.seq is not None else np.arange(i0, i1)
        dropped = st.dropped + int(seq[-1] - seq[0] + 1 - len(seq))
        last = self._last_seq.get(role)
        if last is not None:
            dropped += max(0, int(seq[0]) - last - 1)
        self._last_seq[role] = int(seq[-1])
        span = float(blk.t[-1] - self.t0)
        self._set(
            role,
            LinkState.STREAMING,
            st.message if st.state == LinkState.STREAMING else "",
            received=st.received + len(blk),
            dropped=dropped,
            rate_hz=self._rates[role],
            drift_ppm=0.0,
            jitter_ms=0.0,
            battery_pct=max(5, 100 - int(span / 600)),
        )
        return [blk]


__all__ = ["SimulatedSource"]
