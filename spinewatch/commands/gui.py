"""``spinewatch gui``: the desktop window (live graphs, traffic lights, alerts, calibration)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "gui",
        help="the live posture window (simulated wearer until BLE lands)",
        description="Open the spinewatch window: live spine angles against your limits, a "
        "traffic light per plane, an alert banner, sensor links, sets and reps. Without "
        "--profile the calibration wizard comes first. Live Bluetooth sensors come with the "
        "firmware bridge; today this runs on a simulated wearer (--simulate).",
    )
    p.add_argument("--simulate", action="store_true", help="use a simulated wearer")
    p.add_argument("--profile", help="calibration profile JSON (default: open the wizard)")
    p.add_argument(
        "--save-profile",
        default="~/.config/spinewatch/profile.json",
        help="where the wizard saves the new profile (default %(default)s)",
    )
    p.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="stop after this many seconds of the session (default: until the window is "
        "closed; 60 with --screenshot)",
    )
    p.add_argument(
        "--speed", type=float, default=1.0, help="playback speed of the simulation (default 1)"
    )
    p.add_argument("--seed", type=int, default=7, help="simulated wearer (default 7)")
    p.add_argument("--window", type=float, default=30.0, help="graph window, s (default 30)")
    p.add_argument("--load", choices=("auto", "always", "never"), default="auto")
    p.add_argument("--thresholds", help="flexion=DEG,lateral_flexion=DEG,rotation=DEG")
    p.add_argument("--no-sound", action="store_true", help="do not beep on alerts")
    p.add_argument(
        "--screenshot",
        metavar="OUT.png",
        help="run the simulated session (--seconds of it), save a PNG of the window, exit",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from calibration import CalibrationProfile, calibrate
    from firmware_bridge.simsource import SimulatedSource
    from gui.app import AppOptions, GuiError, check_display, run_app
    from gui.source_adapters import Playback
    from posture.simulator import SimConfig, simulate

    if not args.simulate:
        raise GuiError(
            "live Bluetooth sensors are not supported yet (the firmware bridge is still to "
            "come); run 'spinewatch gui --simulate' for a simulated wearer"
        )
    if args.speed <= 0:
        raise GuiError(f"--speed must be positive, got {args.speed:g}")
    check_display()
    cfg = SimConfig(seed=args.seed)
    seconds = args.seconds if args.seconds is not None else (60.0 if args.screenshot else None)
    profile = None
    if args.profile:
        profile = CalibrationProfile.load(args.profile)
    elif args.screenshot:
        profile = calibrate(simulate("calibration", cfg).raw)  # no one to walk through it

    def session() -> Playback:
        src = SimulatedSource("lifting-session", seconds or 600.0, cfg, speed=0, burst_s=0.1)
        return Playback(src, speed=args.speed)

    def calibration() -> Playback:
        return Playback(SimulatedSource("calibration", None, cfg, speed=0, burst_s=0.1), args.speed)

    opts = AppOptions(
        seconds=seconds,
        screenshot=args.screenshot,
        window_s=args.window,
        sound=not args.no_sound,
        load_mode=args.load,
        thresholds=args.thresholds,
        profile_out=args.save_profile,
    )
    return run_app(session, profile, opts, calibration_source=calibration)
