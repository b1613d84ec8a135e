"""The bridge's public contract: what the app, the GUI and the recorder consume.

Nothing here imports Bluetooth code, so ``gui/`` and ``spinewatch/`` can depend on it freely.

A :class:`SampleSource` delivers IMU sample blocks per role (``"thoracic"``, ``"lumbar"``) on
**one host time base** (seconds, ``time.monotonic()`` of the receiving computer, or the
simulated equivalent): the bridge has already mapped each sensor's own clock onto host time
(offset and drift), so the posture engine needs no further clock fit. Blocks carry unwrapped
sequence numbers; a missing number is a dropped sample, never silently papered over.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from posture.errors import SpinewatchError
from posture.records import ImuBlock, OrientationBlock


class BridgeError(SpinewatchError):
    """Base error of the firmware bridge (no sensor, connection failed, bad config)."""


class SensorNotFoundError(BridgeError):
    """A sensor was not found or did not answer in time."""


class LinkState(StrEnum):
    """What one sensor's link is doing, for status displays."""

    IDLE = "idle"
    SCANNING = "scanning"
    CONNECTING = "connecting"
    STREAMING = "streaming"
    LOST = "lost"
    RECONNECTING = "reconnecting"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(frozen=True)
class LinkStatus:
    """Link statistics of one sensor (a snapshot; a new one after every change).

    Attributes:
        role: ``"thoracic"`` or ``"lumbar"``.
        state: the link state.
        address: BLE address (or a simulated one).
        name: advertised name.
        profile: sensor profile id (``"spinewatch"``, ``"witmotion"``, ``"movella-dot"``, ...).
        rate_hz: measured sample rate over the last seconds (NaN before data).
        received: samples received so far.
        dropped: samples missing according to the sequence numbers.
        jitter_ms: spread (std) of notification arrival relative to the fitted clock, ms.
        drift_ppm: fitted sensor-clock drift relative to host time, ppm (NaN before a fit).
        battery_pct: battery level 0–100, or ``None`` when unknown.
        rssi_dbm: last signal strength, or ``None``.
        reconnects: times the link was re-established after a loss.
        message: a human-readable note for the current state (e.g. why it failed).
        since_s: host time of the last state change, s.
    """

    role: str
    state: LinkState = LinkState.IDLE
    address: str = ""
    name: str = ""
    profile: str = ""
    rate_hz: float = math.nan
    received: int = 0
    dropped: int = 0
    jitter_ms: float = math.nan
    drift_ppm: float = math.nan
    battery_pct: int | None = None
    rssi_dbm: int | None = None
    reconnects: int = 0
    message: str = ""
    since_s: float = 0.0


Block = ImuBlock | OrientationBlock


@runtime_checkable
class SampleSource(Protocol):
    """A live source of sample blocks for both roles (real sensors or simulated ones).

    Usage (inside a running asyncio loop, e.g. qasync's)::

        await source.start()
        while running:
            for block in source.read():   # non-blocking: everything since the last call
                pipeline.push(block)
            show(source.status())
            await asyncio.sleep(0.02)
        await source.stop()
    """

    @property
    def rates_hz(self) -> dict[str, float]:
        """Nominal sample rate per role, Hz (known once started)."""
        ...

    async def start(self) -> None:
        """Connect and start streaming; raises :class:`BridgeError` with a clear message."""
        ...

    async def stop(self) -> None:
        """Stop streaming and disconnect; safe to call twice."""
        ...

    def read(self) -> list[Block]:
        """Blocks received since the last call, in arrival order (may be empty)."""
        ...

    def status(self) -> dict[str, LinkStatus]:
        """The current link status per role."""
        ...

    @property
    def finished(self) -> bool:
        """True once a finite source (simulation, replay) has delivered everything."""
        ...

    async def signal(self, role: str, pattern: str = "alert") -> bool:
        """Buzz/flash the sensor of ``role`` (haptic or LED); False if it has neither."""
        ...

    def taps(self) -> list[tuple[str, float]]:
        """Taps on sensors since the last call: ``(role, host time s)``, e.g. to start or end
        a set (empty for sources whose sensors cannot be tapped)."""
        ...
