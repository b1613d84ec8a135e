"""Timing of a sensor stream: counter unwrapping, drop counting and sensor→host clock fit.

BLE delivers samples late and in bursts (connection intervals, retransmissions), never
early. So the host arrival time of a sample is ``offset + (1 + drift)·t_sensor + delay`` with
``delay ≥ 0``: the **lower envelope** of arrival − sensor time is the clock map. The fit
keeps the minimum of that difference per 0.5 s bin and fits a line through the bins of the
last 60 s; it follows drift (ppm) and ignores bursts, which only ever add delay.

All classes are small state machines with explicit state; time is passed in, never read.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
from numpy.typing import NDArray


class Unwrapper:
    """Unwrap a wrapping counter (sequence numbers, µs ticks) to an int64 that only grows.

    A step back of more than half the range counts as a wrap; a small step back is a
    duplicate or a reordered packet and is reported as such by :meth:`unwrap` (``None``).
    """

    def __init__(self, bits: int) -> None:
        self.modulus = 1 << bits
        self._last: int | None = None  # unwrapped

    def unwrap(self, value: int) -> int | None:
        if self._last is None:
            self._last = value
            return value
        half = self.modulus >> 1
        step = (value - self._last) % self.modulus
        if step == 0 or step > half:
            return None  # duplicate or from the past
        self._last += step
        return self._last

    @property
    def last(self) -> int | None:
        return self._last


class ClockFit:
    """Online lower-envelope fit of host time against sensor time.

    Args:
        bin_s: width of the minimum bins, s of sensor time.
        window_s: how much history the line is fitted to, s.
    """

    def __init__(self, bin_s: float = 0.5, window_s: float = 60.0, min_span_s: float = 5.0):
        self.bin_s = bin_s
        self.min_span_s = min_span_s
        self._bins: deque[tuple[float, float]] = deque(maxlen=max(4, int(window_s / bin_s)))
        self._cur_bin: int | None = None
        self._cur: tuple[float, float] = (math.nan, math.inf)  # (sensor t, min diff)
        self._t_ref: float | None = None  # sensor time origin of the line (numerics)
        self.offset = math.nan  # host − sensor at t_ref, s
        self.drift = 0.0  # (d host / d sensor) − 1
        self._resid: deque[float] = deque(maxlen=500)

    @property
    def ready(self) -> bool:
        return self._t_ref is not None

    def add(self, t_sensor: float, t_host: float) -> None:
        """One observation: sensor time of the newest sample and its host arrival time (s)."""
        if self._t_ref is None:
            self._t_ref = t_sensor
            self.offset = t_host - t_sensor
        diff = t_host - t_sensor
        if self.ready:
            self._resid.append(t_host - self.to_host_scalar(t_sensor))
        b = int(math.floor(t_sensor / self.bin_s))
        if b != self._cur_bin:
            if self._cur_bin is not None:
                self._bins.append(self._cur)
                self._refit()
            self._cur_bin = b
            self._cur = (t_sensor, diff)
        elif diff < self._cur[1]:
            self._cur = (t_sensor, diff)
        if len(self._bins) < 2 and diff < self.offset:
            self.offset = diff  # before two bins: the lowest difference so far

    def _refit(self) -> None:
        if self._t_ref is None:
            return
        arr = np.array(self._bins)
        if arr.shape[0] < 2:
            self.offset = float(min(self.offset, arr[0, 1]))
            return
        x = arr[:, 0] - self._t_ref
        y = arr[:, 1]
        if np.ptp(x) < self.min_span_s:
            # Too short to see drift (1 ms of delay noise over 5 s is 200 ppm): offset only,
            # from the lower quartile of the bin minima (one late bin cannot pull it).
            self.drift = 0.0
            self.offset = float(np.percentile(y, 25)) if y.size >= 4 else float(y.min())
            return
        slope, icpt = np.polyfit(x, y, 1)
        # Bins that caught no packet near the envelope sit above the line: refit on the
        # lower half, so one slow bin cannot tilt the line.
        r = y - (icpt + slope * x)
        low = r <= np.median(r)
        if low.sum() >= 2 and np.ptp(x[low]) > 0:
            slope, icpt = np.polyfit(x[low], y[low], 1)
        self.drift, self.offset = float(slope), float(icpt)

    def to_host_scalar(self, t_sensor: float) -> float:
        ref = self._t_ref if self._t_ref is not None else 0.0
        return t_sensor + self.offset + self.drift * (t_sensor - ref)

    def to_host(self, t_sensor: NDArray[np.float64]) -> NDArray[np.float64]:
        """Map sensor times (s) to host time (s)."""
        ref = self._t_ref if self._t_ref is not None else 0.0
        return t_sensor + self.offset + self.drift * (t_sensor - ref)

    @property
    def drift_ppm(self) -> float:
        """How fast the sensor clock runs relative to host time, ppm (+ = sensor fast)."""
        if not self._bins or self._bins[-1][0] - self._bins[0][0] < self.min_span_s:
            return math.nan
        return -self.drift / (1.0 + self.drift) * 1e6

    @property
    def jitter_ms(self) -> float:
        """Spread of arrival delays above the envelope (std), ms."""
        return float(np.std(self._resid)) * 1e3 if len(self._resid) > 2 else math.nan


class ArrivalClock:
    """Sample times for sensors without timestamps (WitMotion): a nominal-rate grid pinned to
    the lower envelope of arrival times, so bursts do not bunch the samples together."""

    def __init__(self, rate_hz: float) -> None:
        self.dt = 1.0 / rate_hz
        self._k = 0
        self.fit = ClockFit()

    def stamp(self, n: int, t_host: float) -> NDArray[np.float64]:
        ticks = (self._k + np.arange(n, dtype=np.float64)) * self.dt
        self._k += n
        self.fit.add(float(ticks[-1]), t_host)
        return self.fit.to_host(ticks)


class RateMeter:
    """Samples per second over a sliding window of host time."""

    def __init__(self, window_s: float = 2.0) -> None:
        self.window_s = window_s
        self._marks: deque[tuple[float, int]] = deque()
        self._total = 0

    def add(self, t_host: float, n: int) -> None:
        self._total += n
        self._marks.append((t_host, self._total))
        while self._marks and self._marks[0][0] < t_host - self.window_s:
            self._marks.popleft()

    @property
    def rate_hz(self) -> float:
        if len(self._marks) < 2:
            return math.nan
        (t0, c0), (t1, c1) = self._marks[0], self._marks[-1]
        return (c1 - c0) / (t1 - t0) if t1 > t0 else math.nan
