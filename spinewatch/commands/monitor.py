"""``spinewatch monitor``: live alerts in the terminal as they happen."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from spinewatch import argtypes as T

if TYPE_CHECKING:
    from firmware_bridge.api import Block


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "monitor",
        help="live posture alerts in the terminal (paired sensors or --simulate)",
        description="Stream both sensors through the posture engine and print each alert "
        "under load as it is raised and when it ends, and each hinge rep as it finishes. "
        "Sensors with a buzzer or LED are signalled on each alert; a tap on a sensor starts "
        "or ends a set. Uses the paired sensors ('spinewatch pair'), or a simulated wearer.",
    )
    p.add_argument("--simulate", action="store_true", help="use a simulated wearer")
    p.add_argument(
        "--profile", help="calibration profile JSON (default: calibrate the simulated wearer first)"
    )
    p.add_argument(
        "--seconds", type=T.positive_seconds, default=60.0, help="how long to run, s (default 60)"
    )
    p.add_argument(
        "--speed",
        type=T.speed,
        default=1.0,
        help="simulation speed, 0–1000: 1 streams through simulated Bluetooth sensors in real "
        "time; other values skip the radio (0 = as fast as possible)",
    )
    p.add_argument("--seed", type=T.seed, default=7)
    p.add_argument("--load", choices=("auto", "always", "never"), default="auto")
    p.add_argument(
        "--thresholds",
        type=T.threshold_spec,
        help="flexion=DEG,lateral_flexion=DEG,rotation=DEG (each 0–90)",
    )
    p.add_argument("--bell", action="store_true", help="ring the terminal bell on each alert")
    p.add_argument("--fault", action="append", default=[], metavar="NAME=VALUE", type=T.fault_spec)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from calibration import CalibrationProfile
    from posture.errors import CalibrationRequiredError
    from posture.live import LivePipeline, LiveUpdate
    from sim.wearer import calibrated_profile
    from spinewatch.console import LiveLines
    from spinewatch.events import thresholds_for
    from spinewatch.sources import before_next_read, open_source, stop_on_signals

    if args.profile:
        profile = CalibrationProfile.load(args.profile)
    elif args.simulate:
        profile = calibrated_profile(args.seed)
    else:
        raise CalibrationRequiredError(
            "live monitoring needs your calibration profile: run 'spinewatch calibrate' (or "
            "the GUI wizard) and pass --profile PROFILE.json"
        )
    source = open_source(
        args.simulate, seconds=args.seconds, seed=args.seed, speed=args.speed, faults=args.fault
    )
    lines = LiveLines(bell=args.bell)
    alerts = 0

    async def main() -> None:
        stop = stop_on_signals()
        loop = asyncio.get_running_loop()
        await source.start()
        pipe = LivePipeline.for_host_clock(
            profile, thresholds_for(profile, args.thresholds), args.load, source.rates_hz
        )
        t_wall = loop.time()
        blocks: list[Block] = []
        try:
            while not stop.is_set() and not source.finished:
                if not args.simulate and loop.time() - t_wall >= args.seconds:
                    break
                await before_next_read(stop, bool(blocks))
                for _role, t_tap in source.taps():
                    print(lines.tap(t_tap, pipe.toggle_set(t_tap)))
                blocks = source.read()
                for block in blocks:
                    if lines.origin is None:
                        lines.origin = float(block.t[0])
                    await report(pipe.push(block))
            await report(pipe.flush())
        finally:
            await source.stop()

    async def report(up: LiveUpdate) -> None:
        nonlocal alerts
        for line in lines(up):
            print(line, flush=True)
        for _ in up.raised:
            alerts += 1
            await source.signal("lumbar", "alert")

    asyncio.run(main())
    print(f"{alerts} alert(s), {lines.rep_count} rep(s)")
    return 0
