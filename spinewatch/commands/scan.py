"""``spinewatch scan``: list the sensors in range (and which profile they speak)."""

from __future__ import annotations

import argparse

from spinewatch import argtypes as T


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "scan",
        help="list Bluetooth IMU sensors in range",
        description="Scan for Bluetooth LE sensors that speak a supported profile (spinewatch "
        "open profile, WitMotion WT901BLE family, Movella DOT) and list address, name, profile "
        "and signal strength. Pair them with 'spinewatch pair ROLE ADDRESS'.",
    )
    p.add_argument(
        "--seconds",
        type=T.float_in(0.0, 600.0, "s", lo_open=True),
        default=4.0,
        help="how long to listen, 0–600 s (default 4)",
    )
    p.add_argument("--all", action="store_true", help="list every BLE device, not only sensors")
    p.add_argument(
        "--simulate", action="store_true", help="scan two simulated sensors (no radio needed)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from firmware_bridge.hub import FoundSensor, scan
    from firmware_bridge.pairing import Pairing

    async def go() -> list[FoundSensor]:
        if not args.simulate:
            return await scan(args.seconds, everything=args.all)
        from sim.ble_source import SimulatedBleSource, scanner_kwargs

        src = SimulatedBleSource("standing", 5.0)
        for per in src.peripherals.values():
            await per.start()
        try:
            return await scan(args.seconds, scanner_kwargs(src.radio), everything=args.all)
        finally:
            for per in src.peripherals.values():
                await per.stop()

    found = asyncio.run(go())
    paired = {s.address: r for r, s in Pairing.load().sensors.items()}
    if not found:
        print(
            f"no sensors found in {args.seconds:g} s; are they switched on and not connected "
            "to another app?"
        )
        return 1
    from firmware_bridge.adapters import UNSUPPORTED

    print(f"{'address':20s} {'name':22s} {'profile':12s} {'rssi':>5s}  role")
    for f in found:
        rssi = f"{f.rssi_dbm:5d}" if f.rssi_dbm is not None else "    ?"
        print(
            f"{f.address:20s} {f.name[:22]:22s} {f.profile:12s} {rssi}  {paired.get(f.address, '')}"
        )
    for prof in sorted({f.profile for f in found} & set(UNSUPPORTED)):
        print(f"{prof}: {UNSUPPORTED[prof]}")
    return 0
