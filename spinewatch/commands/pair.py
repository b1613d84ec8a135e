"""``spinewatch pair ROLE ADDRESS``: remember which sensor sits where."""

from __future__ import annotations

import argparse

from spinewatch import argtypes as T
from spinewatch.lazy import LazyChoices


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "pair",
        help="assign a sensor (by address) to the thoracic or lumbar role",
        description="Remember a sensor for a role in the pairing file "
        "($SPINEWATCH_HOME/sensors.json, default ~/.config/spinewatch). Without arguments, "
        "show the current pairing.",
    )
    p.add_argument("role", nargs="?", choices=("thoracic", "lumbar"))
    p.add_argument("address", nargs="?", help="BLE address as listed by 'spinewatch scan'")
    p.add_argument(
        "--profile",
        choices=LazyChoices("firmware_bridge.adapters:ADAPTERS"),
        metavar="PROFILE",
        default="spinewatch",
        help="%(choices)s (default %(default)s)",
    )
    p.add_argument(
        "--rate",
        type=T.float_in(0.0, 1000.0, "Hz", lo_open=True),
        default=None,
        help="sample rate, Hz (> 0, ≤ 1000; the sensor family may allow fewer)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from firmware_bridge.api import BridgeError
    from firmware_bridge.pairing import PairedSensor, Pairing

    pairing = Pairing.load()
    if args.role is None:
        if not pairing.sensors:
            print("no sensors paired yet: 'spinewatch scan', then 'spinewatch pair ROLE ADDRESS'")
        for r, s in pairing.sensors.items():
            print(f"{r:9s} {s.address}  {s.profile}  {s.rate_hz:g} Hz")
        return 0
    if not args.address:
        raise BridgeError("give the sensor's address (see 'spinewatch scan')")
    default_rate = {"spinewatch": 200.0, "witmotion": 100.0, "movella-dot": 60.0, "thingy52": 100.0}
    rate = args.rate or default_rate.get(args.profile, 100.0)
    if args.profile == "witmotion":
        from firmware_bridge.profiles.witmotion import RATE_CODES

        if rate not in RATE_CODES:
            raise BridgeError(
                f"WitMotion sensors run at {', '.join(f'{r:g}' for r in sorted(RATE_CODES))} Hz, "
                f"not {rate:g}; pick one of these with --rate"
            )
    path = pairing.with_sensor(args.role, PairedSensor(args.address, args.profile, rate)).save()
    print(f"{args.role} sensor = {args.address} ({args.profile}, {rate:g} Hz); saved in {path}")
    return 0
