"""``spinewatch monitor``: live alerts in the terminal as they happen."""

from __future__ import annotations

import argparse

from spinewatch import argtypes as T


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
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
    import contextlib

    from calibration import CalibrationProfile
    from posture.alerts import LoadSettings
    from posture.alignment import ClockMap
    from posture.engine import EngineSettings
    from posture.errors import CalibrationRequiredError
    from posture.live import LivePipeline
    from sim.wearer import calibrated_profile
    from spinewatch.events import thresholds_for
    from spinewatch.sources import open_source, stop_on_signals

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
    counts = {"alerts": 0, "reps": 0}
    t_first: list[float] = []

    def rel(t: float) -> float:
        return t - t_first[0] if t_first else 0.0

    async def main() -> None:
        stop = stop_on_signals()
        loop = asyncio.get_running_loop()
        await source.start()
        rates = source.rates_hz
        pipe = LivePipeline(
            profile.spine_model,
            thresholds_for(profile, args.thresholds),
            LoadSettings(mode=args.load),
            EngineSettings(
                lumbar_rate_hz=rates.get("lumbar", 200.0),
                thoracic_rate_hz=rates.get("thoracic", 200.0),
                clock=ClockMap(0.0, 0.0),  # the bridge delivers both sensors on host time
            ),
        )
        t_wall = loop.time()
        try:
            while not stop.is_set() and not source.finished:
                if not args.simulate and loop.time() - t_wall >= args.seconds:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.02)
                for _role, t_tap in getattr(source, "taps", list)():
                    on = pipe.toggle_set(t_tap)
                    print(f"{rel(t_tap):7.2f} s  set {'started' if on else 'ended'} (tap)")
                for block in source.read():
                    if not t_first:
                        t_first.append(float(block.t[0]))
                    up = pipe.push(block)
                    await report(up)
            await report(pipe.flush())
        finally:
            await source.stop()

    async def report(up: object) -> None:
        for al in getattr(up, "raised", ()):
            counts["alerts"] += 1
            print(
                f"{rel(al.alert_s):7.2f} s  ALERT  {al.plane.replace('_', ' ')} ({al.side})"
                + ("\a" if args.bell else ""),
                flush=True,
            )
            await source.signal("lumbar", "alert")
        for al in getattr(up, "ended", ()):
            print(
                f"{rel(al.end_s):7.2f} s  back in range after {al.duration_s:.1f} s "
                f"(peak {al.peak_deg:+.0f}°)",
                flush=True,
            )
        for rep in getattr(up, "reps", ()):
            counts["reps"] += 1
            print(
                f"{rel(rep.end_s):7.2f} s  rep {counts['reps']}: peak flexion "
                f"{rep.peak_flexion_deg:+.0f}°, hip share {rep.hip_share:.0%}",
                flush=True,
            )

    asyncio.run(main())
    print(f"{counts['alerts']} alert(s), {counts['reps']} rep(s)")
    return 0
