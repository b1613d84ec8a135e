"""Simulated sensors over simulated Bluetooth: the demo's and the tests' live source.

``SimulatedBleSource`` builds a :class:`~sim.bumble_backend.VirtualRadio`, puts a
:class:`~sim.peripheral.SimPeripheral` on it per role (streaming a wearer
simulation), and connects to them through the *same* :class:`~firmware_bridge.hub.SensorHub`
and bleak code path as real sensors, with the bumble backend instead of the OS one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import numpy as np

from firmware_bridge.adapters import SpinewatchAdapter
from firmware_bridge.hub import SensorHub
from firmware_bridge.link import LinkSettings, SensorLink
from posture.records import ImuBlock
from sim.bumble_backend import BumbleClient, BumbleScanner, VirtualRadio
from sim.clock import loop_clock
from sim.peripheral import Faults, SimPeripheral
from sim.wearer import SimConfig, simulate


def radio_kwargs(radio: VirtualRadio) -> dict[str, Any]:
    """``BleakClient``/``BleakScanner`` arguments that select the virtual radio."""
    return {"backend": BumbleClient, "radio": radio}


def scanner_kwargs(radio: VirtualRadio) -> dict[str, Any]:
    return {"backend": BumbleScanner, "radio": radio}


class SimulatedBleSource(SensorHub):
    """A simulated wearer streamed by simulated BLE sensors (a ``SampleSource``).

    Args:
        script, seconds, config: the wearer simulation (clock offset/drift of the simulator
            are zeroed: per-sensor clock drift is a link fault here).
        faults: per role, or one :class:`Faults` for all.
        extra: more sensors beyond thoracic and lumbar (``"extra1"``, ... streaming a copy
            of the lumbar data), e.g. for load tests.
        result: a ready ``SimResult`` or ``{role: ImuBlock}`` to stream instead.
    """

    def __init__(
        self,
        script: str = "lifting-session",
        seconds: float | None = 60.0,
        config: SimConfig | None = None,
        *,
        faults: Faults | Mapping[str, Faults] | None = None,
        extra: int = 0,
        settings: LinkSettings | None = None,
        result: Any = None,
        batch: int = 4,
    ) -> None:
        cfg = config or SimConfig(seed=7)
        cfg = SimConfig(**{**cfg.__dict__, "clock_offset_s": 0.0, "clock_drift_ppm": 0.0})
        self.result = result if result is not None else simulate(script, cfg, duration_s=seconds)
        raw: dict[str, ImuBlock] = dict(
            self.result if isinstance(self.result, Mapping) else self.result.raw
        )
        if seconds is not None:  # scripts finish their last set; the stream stops on time
            t_cut = min(float(b.t[0]) for b in raw.values()) + seconds
            raw = {r: b.take(b.t < t_cut) for r, b in raw.items()}
        for k in range(extra):
            raw[f"extra{k + 1}"] = raw["lumbar"].with_sensor(f"extra{k + 1}")
        self.radio = VirtualRadio()
        t0 = min(float(b.t[0]) for b in raw.values())
        self.peripherals: dict[str, SimPeripheral] = {}
        links = {}
        for i, (role, blk) in enumerate(raw.items()):
            f = faults.get(role, Faults()) if isinstance(faults, Mapping) else faults
            per = SimPeripheral(
                self.radio, f"spinewatch-{role}", blk, f, seed=cfg.seed * 10 + i, t0=t0
            )
            self.peripherals[role] = per
            adapter = SpinewatchAdapter(role, blk.nominal_rate(), batch=batch)
            # Arrival times on the loop's clock, which paces the peripherals: the same as
            # time.monotonic on a real loop, simulated time on a SimulatedTimeLoop.
            links[role] = SensorLink(
                role, per.address, adapter, radio_kwargs(self.radio), settings, per.name, loop_clock
            )
        super().__init__(links)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        epoch = loop.time() + 0.25  # sample 0 of every sensor, host time
        for per in self.peripherals.values():
            per.epoch = epoch
            await per.start()
        await super().start()

    async def stop(self) -> None:
        await super().stop()
        for per in self.peripherals.values():
            await per.stop()

    @property
    def finished(self) -> bool:
        return all(p.done for p in self.peripherals.values() if not p.faults.absent)

    def truth_host_time(self, role: str, seq: np.ndarray) -> np.ndarray:
        """True host time (s) of samples by sequence number (for tests and benchmarks)."""
        per = self.peripherals[role]
        s = per.block.seq if per.block.seq is not None else np.arange(len(per.block))
        idx = np.searchsorted(s, seq)
        return per.truth_t[np.clip(idx, 0, len(s) - 1)]
