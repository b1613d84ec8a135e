"""Several sensor links as one :class:`~firmware_bridge.api.SampleSource`, plus discovery.

``SensorHub`` starts one :class:`~firmware_bridge.link.SensorLink` per role, waits until all
stream (or reports clearly which sensor failed), and hands out their blocks on host time.
``scan`` lists the sensors in range with their profile, through bleak (real adapter) or any
bleak backend (the virtual radio in tests and the demo).
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Any

from bleak import BleakScanner

from firmware_bridge.adapters import ADAPTERS, profile_of
from firmware_bridge.api import Block, BridgeError, LinkState, LinkStatus, SensorNotFoundError
from firmware_bridge.link import LinkSettings, SensorLink
from firmware_bridge.pairing import Pairing


@dataclass(frozen=True)
class FoundSensor:
    address: str
    name: str
    profile: str
    rssi_dbm: int | None


async def scan(
    seconds: float = 4.0, client_kwargs: dict[str, Any] | None = None, everything: bool = False
) -> list[FoundSensor]:
    """Sensors advertising a supported profile (all BLE devices with ``everything``)."""
    found: dict[str, FoundSensor] = {}

    def seen(dev: Any, adv: Any) -> None:
        prof = profile_of(list(adv.service_uuids), adv.local_name or dev.name)
        if prof is None and not everything:
            return
        found[dev.address] = FoundSensor(
            dev.address, adv.local_name or dev.name or "", prof or "?", adv.rssi
        )

    try:
        async with BleakScanner(detection_callback=seen, **(client_kwargs or {})):
            await asyncio.sleep(seconds)
    except Exception as exc:
        if isinstance(exc, BridgeError):
            raise
        raise BridgeError(
            f"cannot scan for Bluetooth sensors ({exc}); is Bluetooth on and is this program "
            "allowed to use it? 'spinewatch stream --simulate' works without a radio"
        ) from exc
    return sorted(found.values(), key=lambda f: (-(f.rssi_dbm or -999), f.address))


class SensorHub:
    """A live source over several sensor links (implements ``SampleSource``)."""

    def __init__(self, links: dict[str, SensorLink]) -> None:
        self.links = links

    @classmethod
    def from_pairing(
        cls,
        pairing: Pairing,
        client_kwargs: dict[str, Any] | None = None,
        settings: LinkSettings | None = None,
    ) -> SensorHub:
        links = {}
        for role, s in pairing.sensors.items():
            adapter = ADAPTERS[s.profile](role, s.rate_hz)
            links[role] = SensorLink(role, s.address, adapter, client_kwargs, settings, s.name)
        return cls(links)

    @property
    def rates_hz(self) -> dict[str, float]:
        return {r: link.adapter.rate_hz for r, link in self.links.items()}

    @property
    def finished(self) -> bool:
        return False  # live sensors never run out

    async def start(self) -> None:
        """Connect every sensor; raises :class:`SensorNotFoundError` naming the failures."""
        for link in self.links.values():
            link.start()
        await asyncio.gather(*(link.wait_streaming() for link in self.links.values()))
        failed = [link.message for link in self.links.values() if link.state == LinkState.FAILED]
        if failed:
            await self.stop()
            raise SensorNotFoundError("; ".join(failed))

    async def stop(self) -> None:
        await asyncio.gather(*(link.stop() for link in self.links.values()))

    def read(self) -> list[Block]:
        out: list[Block] = []
        for link in self.links.values():
            out.extend(link.drain())
        out.sort(key=lambda b: float(b.t[0]))  # interleave by time, as they arrived
        return out

    def status(self) -> dict[str, LinkStatus]:
        return {r: link.status() for r, link in self.links.items()}

    def taps(self) -> list[tuple[str, float]]:
        """Taps on sensors since the last call: ``(role, host time s)`` (to start a set)."""
        out: list[tuple[str, float]] = []
        for r, link in self.links.items():
            out.extend((r, t) for t in link.adapter.taps)
            link.adapter.taps.clear()
        return out

    async def signal(self, role: str, pattern: str = "alert") -> bool:
        link = self.links.get(role)
        return await link.signal(pattern) if link is not None else False

    def latency_cpu(self) -> tuple[list[float], float]:
        """All notification→block latencies (s) and decoding CPU time (s) so far."""
        lat = [x for link in self.links.values() for x in link.latency_s]
        return lat, sum(link.cpu_s for link in self.links.values())


def link_report(status: dict[str, LinkStatus]) -> str:
    """One line per sensor for terminals."""
    lines = []
    for r, s in status.items():
        rate = f"{s.rate_hz:6.1f} Hz" if math.isfinite(s.rate_hz) else "   –    "
        drift = f"{s.drift_ppm:+6.1f} ppm" if math.isfinite(s.drift_ppm) else "    –     "
        jit = f"{s.jitter_ms:4.1f} ms" if math.isfinite(s.jitter_ms) else "  –  "
        batt = f"{s.battery_pct:3d}%" if s.battery_pct is not None else "  ?"
        lines.append(
            f"{r:9s} {s.state.value:12s} {rate}  rx {s.received:7d}  lost {s.dropped:5d}  "
            f"jitter {jit}  drift {drift}  batt {batt}  reconnects {s.reconnects}"
            + (f"  ({s.message})" if s.message else "")
        )
    return "\n".join(lines)
