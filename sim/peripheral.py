"""Simulated spinewatch-profile sensors: bumble GATT servers streaming a wearer simulation.

Each :class:`SimPeripheral` advertises like the reference firmware, serves the spinewatch
service (data notify, control write, info read) and the standard battery service, and
streams one sensor's samples paced to the event-loop clock, with the faults of real links
(:class:`Faults`). It records the true host time of every sample it sends so tests can
check the bridge's reconstructed time stamps.

Its clock and sleep are the running event loop's (``loop.time()``, ``asyncio.sleep``): real
time on an ordinary loop; on a :class:`~sim.clock.SimulatedTimeLoop` the same
code streams faster than real time with exact, repeatable timing.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from firmware_bridge.api import BridgeError
from firmware_bridge.profiles import spinewatch as P
from posture.records import ImuBlock
from sim.bumble_backend import VirtualRadio


class FaultSpecError(BridgeError):
    """A ``--fault NAME=VALUE`` option that is not understood."""


@dataclass(frozen=True)
class Faults:
    """Link faults of a simulated sensor.

    Attributes:
        drop: fraction of notifications lost on the air (0..1).
        burst: fraction of notifications held back and delivered with the next ones.
        drift_ppm: sensor clock drift relative to host time, ppm.
        disconnect_at: drop the link this many seconds after streaming starts (0 = never).
        down_for: how long the sensor stays away after ``disconnect_at``, s.
        refuse: reject every connection (a sensor that is on but will not talk).
        absent: do not advertise or accept connections at all.
        garble: fraction of notifications truncated or corrupted.
        slow: extra delay of every control-command response, s.
        interval_ms: BLE connection interval: notifications leave on its grid, ms.
    """

    drop: float = 0.0
    burst: float = 0.0
    drift_ppm: float = 0.0
    disconnect_at: float = 0.0
    down_for: float = 2.0
    refuse: bool = False
    absent: bool = False
    garble: float = 0.0
    slow: float = 0.0
    interval_ms: float = 7.5

    @classmethod
    def parse(cls, specs: list[str] | None) -> Faults:
        """``["drop=0.05", "disconnect-at=5"]`` → Faults (clear errors for bad names/values)."""
        known = {f.name.replace("_", "-"): f for f in fields(cls)}
        vals: dict[str, Any] = {}
        for spec in specs or []:
            name, _, value = spec.partition("=")
            f = known.get(name.strip().lower())
            if f is None:
                raise FaultSpecError(
                    f"unknown fault {name!r}; known faults: {', '.join(sorted(known))}"
                )
            if f.type in ("bool", bool):
                word = value.strip().lower()
                if word not in _BOOL_WORDS:
                    raise FaultSpecError(
                        f"fault {name}={value!r}: give {name} alone, or {name}=yes / {name}=no"
                    )
                vals[f.name] = _BOOL_WORDS[word]
                continue
            try:
                v = float(value)
            except ValueError:
                raise FaultSpecError(
                    f"fault {name}={value!r}: the value must be a number"
                ) from None
            lo, hi, what = _FAULT_RANGES.get(f.name, (-1e300, 1e300, "must be a finite number"))
            if not lo <= v <= hi:  # also refuses NaN and infinity
                raise FaultSpecError(f"fault {name}={value.strip()}: {what}")
            vals[f.name] = v
        return cls(**vals)


_BOOL_WORDS = {"": True, "1": True, "true": True, "yes": True, "0": False, "false": False,
               "no": False}  # fmt: skip
# Valid range per numeric fault (inclusive) and what to say otherwise. The connection interval
# is what BLE allows (7.5 ms to 4 s); durations are bounded so a typo cannot stall a run.
_FAULT_RANGES: dict[str, tuple[float, float, str]] = {
    "drop": (0.0, 1.0, "must be a fraction between 0 and 1"),
    "burst": (0.0, 1.0, "must be a fraction between 0 and 1"),
    "garble": (0.0, 1.0, "must be a fraction between 0 and 1"),
    "drift_ppm": (-1000.0, 1000.0, "must be between -1000 and 1000 ppm"),
    "disconnect_at": (0.0, 86400.0, "must be between 0 (never) and 86400 s"),
    "down_for": (0.0, 3600.0, "must be between 0 and 3600 s"),
    "slow": (0.0, 60.0, "must be between 0 and 60 s"),
    "interval_ms": (7.5, 4000.0, "must be a BLE connection interval, 7.5 to 4000 ms"),
}


class SimPeripheral:
    """One simulated sensor on a :class:`VirtualRadio`.

    Args:
        radio: the shared virtual radio.
        name: advertised name (``spinewatch-<role>`` by default).
        block: the samples to stream (``t`` in s; only differences matter).
        faults: link faults.
        seed: for the random faults.
        battery_pct: reported battery level.
    """

    def __init__(
        self,
        radio: VirtualRadio,
        name: str,
        block: ImuBlock,
        faults: Faults | None = None,
        seed: int = 0,
        battery_pct: int = 87,
        address: str | None = None,
        t0: float | None = None,
    ) -> None:
        from bumble import gatt

        self.radio, self.name, self.block = radio, name, block
        self.faults = faults or Faults()
        self.rng = np.random.default_rng([seed, 42])
        self.rate_hz = block.nominal_rate()
        self.batch = 4
        self.battery_pct = battery_pct
        self.address = address or radio.new_address()
        self.device: Any = None  # the bumble device, created by start() inside the loop
        props = gatt.Characteristic.Properties
        self.data_char: Any = gatt.Characteristic(
            P.DATA_UUID, props.NOTIFY, gatt.Characteristic.Permissions(0), b""
        )
        self.control_char: Any = gatt.Characteristic(
            P.CONTROL_UUID,
            props.WRITE,
            gatt.Characteristic.WRITEABLE,
            gatt.CharacteristicValue(write=self._on_control),
        )
        self.info_char: Any = gatt.Characteristic(
            P.INFO_UUID,
            props.READ,
            gatt.Characteristic.READABLE,
            gatt.CharacteristicValue(read=self._info),
        )
        self.battery_char: Any = gatt.Characteristic(
            P.BATTERY_LEVEL_UUID,
            props.READ | props.NOTIFY,
            gatt.Characteristic.READABLE,
            gatt.CharacteristicValue(read=lambda _c: bytes([self.battery_pct])),
        )
        self._services = [
            gatt.Service(P.SERVICE_UUID, [self.data_char, self.control_char, self.info_char]),
            gatt.Service(P.BATTERY_SERVICE_UUID, [self.battery_char]),
        ]
        self._stream_task: asyncio.Task[None] | None = None
        self.t0 = float(block.t[0]) if t0 is None else t0  # block time of the epoch
        self.epoch: float | None = None  # host (loop) time of block time t0, s
        self._next = 0  # next sample index
        self.truth_t = np.full(len(block), np.nan)  # host time of each sample, s
        self._boot_us = int(self.rng.integers(0, 2**32 - 10**9))
        self.sent = np.zeros(len(block), dtype=bool)  # sample went out in a notification
        self.signals: list[tuple[float, int]] = []
        self.taps: list[int] = []  # sample indices to flag with a tap
        self.connections = 0
        self._down_until = 0.0
        self._dis_at = np.inf

    async def _info(self, _conn: Any) -> bytes:
        if self.faults.slow:
            await asyncio.sleep(self.faults.slow)
        return P.encode_info(int(round(self.rate_hz)), self.batch)

    @property
    def done(self) -> bool:
        """Every sample has been produced (sent or lost)."""
        return self._next >= len(self.block)

    async def start(self) -> None:
        """Power on and advertise (unless the sensor is 'absent')."""
        from bumble.core import UUID, AdvertisingData

        if self.device is not None:
            return
        self.device = self.radio.new_device(self.name, self.address)
        self.device.add_services(self._services)
        self.device.on("connection", self._on_connection)
        await self.device.power_on()
        if self.faults.absent:
            return
        self.device.advertising_data = bytes(
            AdvertisingData(
                [
                    (AdvertisingData.FLAGS, bytes([0x06])),
                    (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
                    (
                        AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                        bytes(UUID(P.SERVICE_UUID).to_bytes()),
                    ),
                ]
            )
        )
        await self._advertise()

    async def _advertise(self) -> None:
        with contextlib.suppress(Exception):
            await self.device.start_advertising(auto_restart=True, advertising_interval_min=20.0)

    async def stop(self) -> None:
        if self.device is None:
            return
        if self._stream_task is not None:
            self._stream_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._stream_task
        with contextlib.suppress(Exception):
            await self.device.stop_advertising()
        for conn in list(self.device.connections.values()):
            with contextlib.suppress(Exception):
                await conn.disconnect()

    def _on_connection(self, conn: Any) -> None:
        self.connections += 1
        loop = asyncio.get_running_loop()
        if self.faults.refuse or loop.time() < self._down_until:
            loop.create_task(conn.disconnect())

    async def _on_control(self, conn: Any, value: bytes) -> None:
        # Awaited by bumble before the write response goes out, so 'slow' delays the answer.
        await self._handle(bytes(value))

    async def _handle(self, cmd: bytes) -> None:
        if self.faults.slow:
            await asyncio.sleep(self.faults.slow)
        if not cmd:
            return
        op = cmd[0]
        if op == P.OP_START and self._stream_task is None:
            self._stream_task = asyncio.get_running_loop().create_task(self._stream())
        elif op == P.OP_STOP and self._stream_task is not None:
            self._stream_task.cancel()
            self._stream_task = None
        elif op == P.OP_BATCH and len(cmd) >= 2:
            self.batch = max(1, min(cmd[1], P.max_samples(247)))
        elif op == P.OP_SIGNAL and len(cmd) >= 4:
            self.signals.append((asyncio.get_running_loop().time(), cmd[1]))

    def _t_us(self, t_host: float) -> int:
        # The sensor's own clock: boots at an arbitrary count and runs fast/slow by drift.
        rel = (t_host - (self.epoch or 0.0)) * (1.0 + self.faults.drift_ppm * 1e-6)
        return int(self._boot_us + round(rel * 1e6))

    async def _stream(self) -> None:
        loop = asyncio.get_running_loop()
        b, f = self.block, self.faults
        if self.epoch is None:
            self.epoch = loop.time() + 0.01
        if np.isnan(self.truth_t[0]):  # first start: fix the timeline (not on restarts)
            self.truth_t = self.epoch + (b.t - self.t0)
            self._dis_at = self.epoch + f.disconnect_at if f.disconnect_at > 0 else np.inf
        # Samples taken before anyone asked for them are not sent (a sensor starts live).
        self._next = max(self._next, int(np.searchsorted(self.truth_t, loop.time())))
        interval = f.interval_ms * 1e-3
        held: list[bytes] = []
        seq = b.seq if b.seq is not None else np.arange(len(b))
        try:
            while self._next < len(b):
                i0 = self._next
                i1 = min(i0 + self.batch, len(b))
                t_host = self.truth_t[i0:i1]
                self._next = i1
                send_at = t_host[-1]
                if interval > 0:  # leave on the connection-event grid
                    send_at = self.epoch + np.ceil((send_at - self.epoch) / interval) * interval
                delay = send_at - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                if loop.time() >= self._dis_at:
                    self._dis_at = np.inf
                    await self._drop_link(f.down_for)
                if not self.device.connections:
                    continue  # samples taken while nobody listens are lost
                status = P.STATUS_TAP if any(i0 <= k < i1 for k in self.taps) else 0
                pkt = P.encode(
                    int(seq[i0]),
                    self._t_us(float(t_host[0])) & 0xFFFFFFFF,
                    int(round(1e6 / self.rate_hz * (1.0 + f.drift_ppm * 1e-6))),
                    b.acc[i0:i1],
                    b.gyr[i0:i1],
                    None if b.mag is None else b.mag[i0:i1],
                    battery_pct=self.battery_pct,
                    status=status,
                )
                if f.drop and self.rng.random() < f.drop:
                    continue
                if f.garble and self.rng.random() < f.garble:
                    pkt = pkt[: int(self.rng.integers(1, len(pkt)))]
                held.append(pkt)
                if f.burst and self.rng.random() < f.burst and len(held) < 4:
                    continue  # held back: goes out with the next notification
                for p in held:
                    await self.device.notify_subscribers(self.data_char, p)
                self.sent[i0:i1] = True
                held.clear()
        except asyncio.CancelledError:
            raise
        finally:
            self._stream_task = None

    async def _drop_link(self, down_for: float) -> None:
        """Drop the link and stay away (not connectable) for ``down_for`` seconds."""
        loop = asyncio.get_running_loop()
        self._down_until = loop.time() + down_for
        with contextlib.suppress(Exception):
            await self.device.stop_advertising()
        for conn in list(self.device.connections.values()):
            with contextlib.suppress(Exception):
                await conn.disconnect()
        loop.call_later(down_for, lambda: loop.create_task(self._advertise()))

    def tap_at(self, t_s: float) -> None:
        """Flag a tap on the sample nearest ``t_s`` of the block's own time."""
        self.taps.append(int(np.searchsorted(self.block.t, t_s)))
