"""Sensor-family adapters: GATT setup commands and notification → host-timed sample blocks.

An adapter owns the per-sensor stream state (sequence unwrapping, drop counting, the clock
fit) and turns each notification into an :class:`~posture.records.ImuBlock` (or an
:class:`~posture.records.OrientationBlock` for on-board fusion) on host time. ``feed`` is
pure apart from that state: bytes and an arrival time in, a block out, so it is unit-tested
without any Bluetooth.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from firmware_bridge.profiles import movella_dot as DOT
from firmware_bridge.profiles import spinewatch as P
from firmware_bridge.profiles import thingy52 as THINGY
from firmware_bridge.profiles import witmotion as WIT
from firmware_bridge.profiles.spinewatch import PacketError
from firmware_bridge.timing import ArrivalClock, ClockFit, RateMeter, Unwrapper
from posture.records import ImuBlock, OrientationBlock


class Adapter:
    """Base: counters and statistics shared by every sensor family."""

    profile: ClassVar[str] = ""
    service_uuid: ClassVar[str] = ""
    # Per family, and per instance where the sensor's mode picks the characteristic (DOT).
    data_uuid: str = ""
    extra_uuids: tuple[str, ...] = ()  # also subscribed where the sensor has them

    def __init__(self, role: str, rate_hz: float = 200.0) -> None:
        self.role = role
        self.rate_hz = rate_hz
        self.received = 0
        self.dropped = 0
        self.bad_packets = 0
        self.duplicates = 0
        self.battery_pct: int | None = None
        self.taps: list[float] = []  # host times of taps on the sensor
        self.meter = RateMeter()
        self.clock: ClockFit | None = None  # the sensor→host clock fit, where there is one
        self._t_last = -math.inf

    async def setup(self, client: Any) -> None:
        """Configure the sensor and start streaming (notifications already enabled)."""

    def signal_command(self, pattern: str) -> tuple[str, bytes] | None:
        """``(characteristic, bytes)`` that buzzes/flashes the sensor, or None."""
        return None

    def feed(self, data: bytes, t_host: float) -> ImuBlock | OrientationBlock | None:
        raise NotImplementedError

    def _monotonic(self, t: np.ndarray) -> np.ndarray:
        # A refit of the clock may move the map by a fraction of a ms; never step back.
        floor = self._t_last + 0.25 / self.rate_hz
        if t[0] < floor:
            t = np.maximum(t, floor + np.arange(t.size) * (0.25 / self.rate_hz))
        self._t_last = float(t[-1])
        return t

    def fit_stats(self) -> tuple[float, float]:
        """(clock drift, ppm; arrival jitter, ms), NaN where unknown."""
        if self.clock is None:
            return math.nan, math.nan
        return self.clock.drift_ppm, self.clock.jitter_ms


class ArrivalAdapter(Adapter):
    """Base for sensors without time stamps or sequence numbers: samples are placed on the
    rate grid, pinned to the lower envelope of their arrival times."""

    def __init__(self, role: str, rate_hz: float = 100.0) -> None:
        super().__init__(role, rate_hz)
        self.arrival = ArrivalClock(rate_hz)
        self.clock = self.arrival.fit

    def _block(
        self,
        acc: np.ndarray,
        gyr: np.ndarray,
        mag: np.ndarray | None,
        t_host: float,
    ) -> ImuBlock:
        n = int(acc.shape[0])
        t = self._monotonic(self.arrival.stamp(n, t_host))
        seq = self.received + np.arange(n)
        self.received += n
        self.meter.add(t_host, n)
        return ImuBlock(self.role, t, acc, gyr, mag, seq)


class SpinewatchAdapter(Adapter):
    """The open spinewatch profile (``docs/protocol.md``)."""

    profile = "spinewatch"
    service_uuid = P.SERVICE_UUID
    data_uuid = P.DATA_UUID

    def __init__(self, role: str, rate_hz: float = 200.0, batch: int = 4) -> None:
        super().__init__(role, rate_hz)
        self.batch = batch
        self.ticks = Unwrapper(32)
        self.clock: ClockFit = ClockFit()
        self._next_seq: int | None = None  # unwrapped
        self._t_next: float | None = None  # sensor time expected for the next sample, s

    async def setup(self, client: Any) -> None:
        info = P.decode_info(await client.read_gatt_char(P.INFO_UUID))
        if info["rate_hz"] != round(self.rate_hz):
            # Ask for the configured rate; the sensor reports what it really runs at.
            await client.write_gatt_char(P.CONTROL_UUID, P.cmd_rate(round(self.rate_hz)), True)
            info = P.decode_info(await client.read_gatt_char(P.INFO_UUID))
        self.rate_hz = float(info["rate_hz"]) or self.rate_hz
        await client.write_gatt_char(P.CONTROL_UUID, P.cmd_batch(self.batch), response=True)
        await client.write_gatt_char(P.CONTROL_UUID, P.cmd_start(), response=True)
        try:
            self.battery_pct = int((await client.read_gatt_char(P.BATTERY_LEVEL_UUID))[0])
        except Exception:  # battery service is optional in the profile
            self.battery_pct = None

    def signal_command(self, pattern: str) -> tuple[str, bytes] | None:
        return P.CONTROL_UUID, P.cmd_signal(pattern)

    def feed(self, data: bytes, t_host: float) -> ImuBlock | None:
        try:
            pkt = P.decode(data)
        except PacketError:
            self.bad_packets += 1
            return None
        t0 = self.ticks.unwrap(pkt.t_us)
        if t0 is None:
            self.duplicates += 1
            return None
        dt = pkt.dt_us * 1e-6
        t_sensor = (t0 + np.arange(pkt.n, dtype=np.float64) * pkt.dt_us) * 1e-6
        if self._next_seq is None:
            seq0 = pkt.seq
        else:
            # 16-bit sequence numbers wrap every 5.5 min at 200 Hz: the sensor clock says how
            # many wraps a long gap (a reconnect) spans.
            step = (pkt.seq - self._next_seq) % 65536
            est = (t_sensor[0] - (self._t_next or t_sensor[0])) / dt
            wraps = max(0, round((est - step) / 65536))
            seq0 = self._next_seq + step + 65536 * wraps
            self.dropped += seq0 - self._next_seq
        self._next_seq = seq0 + pkt.n
        self._t_next = float(t_sensor[-1] + dt)
        self.clock.add(float(t_sensor[-1]), t_host)
        t = self._monotonic(self.clock.to_host(t_sensor))
        self.received += pkt.n
        self.meter.add(t_host, pkt.n)
        if pkt.battery_pct is not None:
            self.battery_pct = pkt.battery_pct
        if pkt.tapped:
            self.taps.append(float(t[-1]))
        return ImuBlock(self.role, t, pkt.acc, pkt.gyr, pkt.mag, seq0 + np.arange(pkt.n))


class WitMotionAdapter(ArrivalAdapter):
    """WitMotion WT901BLE family: raw acc/gyr frames, times from arrival on a rate grid.

    Notifications go through a :class:`~firmware_bridge.profiles.witmotion.WitStream`, so a
    frame split across notifications still decodes and stray bytes are skipped (counted in
    ``garbage_bytes``; unknown frame types in ``bad_packets``, with ``last_error``).
    """

    profile = "witmotion"
    service_uuid = WIT.SERVICE_UUID
    data_uuid = WIT.NOTIFY_UUID

    def __init__(self, role: str, rate_hz: float = 100.0) -> None:
        super().__init__(role, rate_hz)
        self.stream = WIT.WitStream()

    @property
    def garbage_bytes(self) -> int:
        return self.stream.garbage_bytes

    @property
    def last_error(self) -> str:
        return self.stream.last_error

    async def setup(self, client: Any) -> None:
        self.stream.reset()  # a partial frame from before a reconnect is lost
        for cmd in (WIT.cmd_unlock(), WIT.cmd_rate(self.rate_hz), WIT.cmd_save()):
            await client.write_gatt_char(WIT.WRITE_UUID, cmd, response=False)

    def feed(self, data: bytes, t_host: float) -> ImuBlock | None:
        bad0 = self.stream.bad_frames
        fr = self.stream.push(data)
        self.bad_packets += self.stream.bad_frames - bad0
        if fr.n == 0:
            return None  # register answers only, or a frame still incomplete
        return self._block(fr.acc, fr.gyr, None, t_host)


class DotAdapter(Adapter):
    """Movella DOT: rate quantities (raw, preferred) or on-board orientation quaternions."""

    profile = "movella-dot"
    service_uuid = DOT.MEASUREMENT_SERVICE

    def __init__(self, role: str, rate_hz: float = 60.0, mode: str = "rate-quantities") -> None:
        super().__init__(role, DOT.output_rate_for(rate_hz))
        self.mode = DOT.MODES[mode]
        self.data_uuid = self.mode.characteristic
        # Some firmware sends every mode's payload on the medium characteristic.
        self.extra_uuids = tuple(
            u for u in (DOT.MEDIUM_PAYLOAD_UUID,) if u != self.mode.characteristic
        )
        self.ticks = Unwrapper(32)
        self.clock: ClockFit = ClockFit()
        self._t_prev: float | None = None

    async def setup(self, client: Any) -> None:
        # The output rate lives in the device control characteristic: read, change, write.
        ctrl = await client.read_gatt_char(DOT.DEVICE_CONTROL_UUID)
        await client.write_gatt_char(
            DOT.DEVICE_CONTROL_UUID, DOT.cmd_output_rate(ctrl, self.rate_hz), response=True
        )
        await client.write_gatt_char(DOT.CONTROL_UUID, DOT.cmd_measure(self.mode), response=True)

    def feed(self, data: bytes, t_host: float) -> ImuBlock | OrientationBlock | None:
        try:
            s = DOT.decode(data, self.mode)
        except PacketError:
            self.bad_packets += 1
            return None
        ticks = self.ticks.unwrap(s.t_us)
        if ticks is None:
            self.duplicates += 1
            return None
        ts = ticks * 1e-6
        if self._t_prev is not None:  # no sequence numbers: missing samples from the clock
            self.dropped += max(0, round((ts - self._t_prev) * self.rate_hz) - 1)
        self._t_prev = ts
        self.clock.add(ts, t_host)
        t = self._monotonic(self.clock.to_host(np.array([ts])))
        self.received += 1
        self.meter.add(t_host, 1)
        v = s.values
        if "acc" in v:
            return ImuBlock(self.role, t, v["acc"][None, :], v["gyr"][None, :])
        if "quat" in v:
            return OrientationBlock(self.role, t, v["quat"][None, :])
        return None


class Thingy52Adapter(ArrivalAdapter):
    """Nordic Thingy:52: raw acc/gyr/mag on the rate grid by arrival."""

    profile = "thingy52"
    service_uuid = THINGY.MOTION_SERVICE
    data_uuid = THINGY.RAW_UUID

    async def setup(self, client: Any) -> None:
        cfg = THINGY.cmd_config(int(round(self.rate_hz)))
        await client.write_gatt_char(THINGY.CONFIG_UUID, cfg, response=True)

    def signal_command(self, pattern: str) -> tuple[str, bytes] | None:
        return THINGY.LED_UUID, THINGY.cmd_led_breathe(red=pattern == "alert")

    def feed(self, data: bytes, t_host: float) -> ImuBlock | None:
        try:
            acc, gyr, mag = THINGY.decode_raw(data)
        except PacketError:
            self.bad_packets += 1
            return None
        return self._block(acc[None, :], gyr[None, :], mag[None, :], t_host)


ADAPTERS: dict[str, type[Adapter]] = {
    a.profile: a for a in (SpinewatchAdapter, WitMotionAdapter, DotAdapter, Thingy52Adapter)
}


WITMOTION_CLASSIC = "witmotion-classic"
# Recognised in a scan but not spoken: profile → why, and what to use instead.
UNSUPPORTED: dict[str, str] = {WITMOTION_CLASSIC: WIT.CLASSIC_MESSAGE}


def profile_of(service_uuids: list[str], name: str | None) -> str | None:
    """Which profile an advertisement belongs to (by service UUID, then by name)."""
    uu = {u.lower() for u in service_uuids}
    n = (name or "").lower()
    if WIT.CLASSIC_SERVICE_UUID in uu or n.startswith("bwt901cl"):
        return WITMOTION_CLASSIC
    for a in ADAPTERS.values():
        if a.service_uuid.lower() in uu:
            return a.profile
    if n.startswith(("wt901", "bwt901", "wt9011")):
        return "witmotion"
    if "dot" in n and ("xsens" in n or "movella" in n):
        return "movella-dot"
    if n.startswith("thingy"):
        return "thingy52"
    return None
