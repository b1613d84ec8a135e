"""``spinewatch demo``: a simulated wearer calibrates and lifts, end to end."""

from __future__ import annotations

import argparse

from spinewatch import argtypes as T


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo",
        help="simulated wearer and sensors: calibration and a live lifting session, end to end",
        description="A simulated wearer (seeded, with ground truth) calibrates (standing + "
        "cat-cow), then lifts while two simulated Bluetooth sensors stream live through the "
        "bridge; spinewatch prints alerts and reps as they happen and the error against the "
        "truth. --offline analyses a longer recording as fast as possible instead.",
    )
    p.add_argument("--seed", type=T.seed, default=7, help="simulated wearer (default 7)")
    p.add_argument(
        "--minutes",
        type=T.float_in(0.0, 30.0, "min", lo_open=True),
        default=2.0,
        help="session length with --offline, 0–30 min (default 2)",
    )
    p.add_argument(
        "--rate",
        type=T.float_in(50.0, 400.0, "Hz"),
        default=200.0,
        help="sensor rate with --offline, 50–400 Hz (default 200)",
    )
    p.add_argument("-o", "--out", help="folder to keep the demo's files in (raw, profile, angles)")
    p.add_argument(
        "--offline",
        action="store_true",
        help="analyse a --minutes long recording as fast as possible instead of streaming live",
    )
    p.add_argument(
        "--seconds",
        type=T.float_in(0.0, 3600.0, "s", lo_open=True),
        default=60.0,
        help="live session length, 0–3600 s (default 60)",
    )
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        type=T.fault_spec,
        help="link fault of the simulated sensors (see 'spinewatch stream --help')",
    )
    p.add_argument(
        "--no-gui", action="store_true", help="stay in the terminal even when a display is there"
    )
    p.set_defaults(func=run)


def display_available() -> bool:
    """A real screen to open a window on (offscreen Qt does not count: nobody would see it)."""
    import os
    import sys

    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def run(args: argparse.Namespace) -> int:
    from spinewatch.demo import run_demo, run_gui_demo, run_live_demo

    if args.offline:
        return run_demo(seed=args.seed, minutes=args.minutes, rate_hz=args.rate, out_dir=args.out)
    if not args.no_gui:
        if display_available():
            return run_gui_demo(seed=args.seed, seconds=args.seconds, faults=args.fault)
        print(
            "no display found, so the demo runs in the terminal (on a desktop it opens the "
            "spinewatch window; 'spinewatch gui --simulate' opens it directly)"
        )
    return run_live_demo(seed=args.seed, seconds=args.seconds, faults=args.fault)
