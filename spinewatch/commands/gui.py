"""``spinewatch gui``: the desktop window (live graphs, traffic lights, alerts, calibration)."""

from __future__ import annotations

import argparse

from spinewatch import argtypes as T


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "gui",
        help="the live posture window (paired sensors, --simulate or --replay)",
        description="Open the spinewatch window: live spine angles against your limits, a "
        "traffic light per plane, an alert banner, sensor links, sets and reps. Without "
        "--profile the calibration wizard comes first. Uses the paired sensors ('spinewatch "
        "pair'), a simulated wearer (--simulate) or a recorded session (--replay).",
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--simulate", action="store_true", help="use a simulated wearer")
    src.add_argument("--replay", metavar="SESSION", help="replay a recorded session (name or file)")
    p.add_argument(
        "--ble",
        action="store_true",
        help="with --simulate: stream through simulated Bluetooth sensors (real time only)",
    )
    p.add_argument("--profile", help="calibration profile JSON (default: open the wizard)")
    p.add_argument(
        "--save-profile",
        default="~/.config/spinewatch/profile.json",
        help="where the wizard saves the new profile (default %(default)s)",
    )
    p.add_argument(
        "--sensors",
        metavar="SENSORS.json",
        help="the wizard calibrates with these accelerometer corrections ('spinewatch "
        "calibrate-sensors'; looked up by sensor id, else by role)",
    )
    p.add_argument(
        "--seconds",
        type=T.positive_seconds,
        default=None,
        help="stop after this many seconds of the session (default: until the window is "
        "closed; 60 with --screenshot)",
    )
    p.add_argument(
        "--speed",
        type=T.float_in(0.0, T.SPEED_MAX, lo_open=True),
        default=1.0,
        help="playback speed of a simulation or replay, > 0 and ≤ 1000 (default 1; also in the "
        "window)",
    )
    p.add_argument("--seed", type=T.seed, default=7, help="simulated wearer (default 7)")
    p.add_argument(
        "--window",
        type=T.float_in(2.0, 600.0, "s"),
        default=30.0,
        help="graph window, 2–600 s (default 30)",
    )
    p.add_argument("--load", choices=("auto", "always", "never"), default="auto")
    p.add_argument(
        "--thresholds",
        type=T.threshold_spec,
        help="flexion=DEG,lateral_flexion=DEG,rotation=DEG (each 0–90)",
    )
    p.add_argument("--no-sound", action="store_true", help="do not beep on alerts")
    p.add_argument(
        "--screenshot",
        metavar="OUT.png",
        help="run --seconds of the session, save a PNG of the window and exit (a simulated "
        "wearer is calibrated without the wizard)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from collections.abc import Callable

    from calibration import CalibrationProfile
    from firmware_bridge.api import SampleSource
    from gui.app import AppOptions, GuiError, check_display, run_app
    from gui.source_adapters import Playback
    from posture.thresholds import Thresholds
    from sim.wearer import SimConfig, calibrated_profile
    from spinewatch.sources import check_source_options, open_source

    if args.speed <= 0:
        raise GuiError(f"--speed must be positive, got {args.speed:g}")
    check_source_options(args.simulate, speed=args.speed, ble=args.ble)
    check_display()
    cfg = SimConfig(seed=args.seed)
    seconds = args.seconds if args.seconds is not None else (60.0 if args.screenshot else None)
    profile = CalibrationProfile.load(args.profile) if args.profile else None
    if args.sensors:
        if profile is not None or args.replay:
            raise GuiError(
                "--sensors is for the calibration wizard; a profile already carries its "
                "sensors' correction (leave out --sensors, or --profile to calibrate anew)"
            )
        from calibration.sensor_table import load_sensor_calibration

        load_sensor_calibration(args.sensors)  # a bad file: one line now, not in the wizard
    thresholds = None
    calibration: Callable[[], SampleSource] | None = None

    if args.replay:
        from spinewatch.sessions import SessionFile, resolve
        from spinewatch.sessions.replay import ReplaySource

        session = SessionFile(resolve(args.replay))
        session.verify()  # a damaged file: one line now, not a traceback inside Qt's loop
        profile = profile or session.profile()
        if profile is None:
            raise GuiError(f"{args.replay}: the session has no profile; pass --profile")
        if not args.profile and not args.thresholds:
            thresholds = session.thresholds()

        def source() -> SampleSource:
            return Playback(ReplaySource(session, speed=0, burst_s=0.1), args.speed)

    elif args.simulate:
        if profile is None and args.screenshot:
            profile = calibrated_profile(cfg)  # no one to walk through it
        length = seconds or 600.0

        def simulated(script: str, secs: float | None) -> SampleSource:
            # Over simulated BLE in real time; else flat out, paced by the window's Playback.
            speed = 1.0 if args.ble else 0.0
            sim = open_source(
                True,
                seconds=secs,
                seed=args.seed,
                speed=speed,
                script=script,
                ble=args.ble,
                burst_s=0.1,
            )
            return sim if args.ble else Playback(sim, args.speed)

        def source() -> SampleSource:
            return simulated("lifting-session", length)

        def calibration() -> SampleSource:
            return simulated("calibration", None)

    else:

        def source() -> SampleSource:
            return open_source(False)

        source()  # fail early, with the bridge's message, when no sensors are paired
        if args.screenshot and profile is None:
            raise GuiError("--screenshot with live sensors needs --profile")

    from spinewatch.sessions.recorder import SessionSink
    from spinewatch.sessions.store import sessions_dir

    def sink(prof: CalibrationProfile, th: Thresholds) -> SessionSink:
        origin = "replay" if args.replay else "simulated" if args.simulate else "ble"
        return SessionSink(prof, th, args.load, meta={"source": origin, "recorded_by": "gui"})

    opts = AppOptions(
        record_dir=str(sessions_dir()),
        seconds=seconds,
        screenshot=args.screenshot,
        window_s=args.window,
        sound=not args.no_sound,
        load_mode=args.load,
        thresholds=args.thresholds,
        profile_out=args.save_profile,
        sensors=args.sensors,
    )
    return run_app(
        source,
        profile,
        opts,
        calibration_source=calibration,
        thresholds=thresholds,
        sink_factory=sink,
    )
