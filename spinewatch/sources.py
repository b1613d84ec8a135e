"""Where live samples come from: paired Bluetooth sensors or a simulated wearer.

One factory for every command (``stream``, ``monitor``, ``record``, ``gui``, ``demo``) so
they all connect the same way. ``simulate=True`` at real-time speed streams the simulated
wearer through simulated BLE peripherals (bumble), exercising the whole bridge; at any other
speed it uses the radio-free simulated source, which can run faster than real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Sequence

from firmware_bridge.api import BridgeError, SampleSource
from posture.records import ROLES


def check_source_options(
    simulate: bool,
    *,
    speed: float = 1.0,
    faults: Sequence[str] | None = None,
    ble: bool | None = None,
) -> bool:
    """The option rules of every live command and the GUI, checked before anything connects.

    Returns whether the simulated Bluetooth link is used; raises :class:`BridgeError` with
    what to change (``--fault``/``--ble`` without ``--simulate``, Bluetooth at another speed
    than real time, ``--fault`` without the Bluetooth link). Arguments as :func:`open_source`.
    """
    if not simulate:
        if faults:
            raise BridgeError("--fault only applies to simulated sensors (add --simulate)")
        if ble:
            raise BridgeError("--ble only applies to a simulated wearer (add --simulate)")
        return False
    use_ble = (speed == 1.0) if ble is None else ble
    if use_ble and speed != 1.0:
        raise BridgeError("simulated Bluetooth sensors stream in real time; use --speed 1")
    if faults and not use_ble:
        raise BridgeError("--fault needs the simulated Bluetooth link (real-time, --speed 1)")
    return use_ble


def open_source(
    simulate: bool,
    *,
    seconds: float | None = 60.0,
    seed: int = 7,
    speed: float = 1.0,
    script: str = "lifting-session",
    faults: Sequence[str] | None = None,
    ble: bool | None = None,
    burst_s: float = 1.0,
) -> SampleSource:
    """A :class:`~firmware_bridge.api.SampleSource` for the given options.

    Args:
        simulate: use a simulated wearer instead of paired sensors.
        seconds: length of the simulation (ignored for real sensors).
        seed, script: the simulated wearer and what they do.
        speed: simulation speed (1 = real time; 0 = as fast as it is read).
        faults: ``NAME=VALUE`` link faults of the simulated sensors (``--fault``).
        ble: force (True) or skip (False) the simulated Bluetooth link; default: BLE at
            real-time speed.
        burst_s: radio-free simulation at speed 0: stream time delivered per read, s.
    """
    use_ble = check_source_options(simulate, speed=speed, faults=faults, ble=ble)
    if not simulate:
        from firmware_bridge.hub import SensorHub
        from firmware_bridge.pairing import Pairing, config_dir

        pairing = Pairing.load()
        missing = [r for r in ROLES if r not in pairing.sensors]
        if missing:
            raise BridgeError(
                f"no {' and '.join(missing)} sensor paired (looked in {config_dir()}); run "
                "'spinewatch scan' and then 'spinewatch pair ROLE ADDRESS' for each sensor, "
                "or add --simulate to use a simulated wearer"
            )
        return SensorHub.from_pairing(pairing)
    from sim.wearer import SimConfig

    cfg = SimConfig(seed=seed)
    if use_ble:
        from sim.ble_source import SimulatedBleSource
        from sim.peripheral import Faults

        return SimulatedBleSource(script, seconds, cfg, faults=Faults.parse(list(faults or [])))
    from sim.source import SimulatedSource

    return SimulatedSource(script, seconds, cfg, speed=speed, burst_s=burst_s)


def stop_on_signals() -> asyncio.Event:
    """An event that Ctrl-C or SIGTERM sets, so a live loop can end cleanly (call it inside
    the running event loop)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    return stop


async def before_next_read(stop: asyncio.Event, had_blocks: bool, poll_s: float = 0.02) -> None:
    """Pause of a loop polling a source: none after a read that gave blocks (a source faster
    than real time has more waiting; a live one answers the next read with nothing), else
    ``poll_s`` or until ``stop`` is set."""
    if had_blocks:
        await asyncio.sleep(0)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), poll_s)
