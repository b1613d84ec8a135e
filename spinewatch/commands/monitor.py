"""``spinewatch monitor --simulate``: live alerts in the terminal as they happen."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "monitor",
        help="live posture alerts in the terminal (simulated wearer until BLE lands)",
        description="Stream both sensors through the posture engine and print each alert "
        "under load as it is raised and when it ends. Live Bluetooth sensors come with the "
        "firmware bridge; today this runs on a simulated wearer (--simulate).",
    )
    p.add_argument("--simulate", action="store_true", help="use a simulated wearer")
    p.add_argument(
        "--profile", help="calibration profile JSON (default: calibrate the simulated wearer first)"
    )
    p.add_argument("--seconds", type=float, default=60.0, help="how long to run (default 60)")
    p.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="playback speed of the simulation (0 = as fast as possible)",
    )
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--load", choices=("auto", "always", "never"), default="auto")
    p.add_argument("--thresholds", help="flexion=DEG,lateral_flexion=DEG,rotation=DEG")
    p.add_argument("--bell", action="store_true", help="ring the terminal bell on each alert")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import time

    from calibration import CalibrationProfile, calibrate
    from posture.alerts import AlertEngine, LoadContext, LoadSettings
    from posture.alignment import estimate_clock_map
    from posture.engine import EngineSettings, PostureEngine, stream_in_chunks
    from posture.errors import SpinewatchError
    from posture.simulator import SimConfig, simulate
    from spinewatch.events import thresholds_for

    if not args.simulate:
        raise SpinewatchError(
            "live Bluetooth sensors are not supported yet (the firmware bridge is still to "
            "come); run 'spinewatch monitor --simulate' for a simulated wearer"
        )
    cfg = SimConfig(seed=args.seed)
    profile = (
        CalibrationProfile.load(args.profile)
        if args.profile
        else calibrate(simulate("calibration", cfg).raw)
    )
    sess = simulate("lifting-session", cfg, duration_s=args.seconds)
    lum, tho = sess.raw["lumbar"], sess.raw["thoracic"]
    engine = PostureEngine(
        profile.spine_model,
        EngineSettings(
            lumbar_rate_hz=cfg.rate_hz,
            thoracic_rate_hz=cfg.rate_hz,
            clock=estimate_clock_map(lum, tho),
        ),
    )
    alerts = AlertEngine(
        thresholds_for(profile, args.thresholds), LoadContext(LoadSettings(mode=args.load))
    )
    t_first = float(lum.t[0])
    wall0 = time.monotonic()
    n_alerts = 0
    # One 20 ms BLE notification per step, paced to wall-clock time unless --speed 0.
    for edge, ang in stream_in_chunks(engine, lum, tho, step_s=0.02):
        if args.speed > 0:
            delay = (edge - t_first) / args.speed - (time.monotonic() - wall0)
            if delay > 0:
                time.sleep(delay)
        raised, ended = alerts.process(ang)
        for al in raised:
            n_alerts += 1
            print(
                f"{al.alert_s - t_first:7.2f} s  ALERT  {al.plane.replace('_', ' ')} "
                f"({al.side})" + ("\a" if args.bell else ""),
                flush=True,
            )
        for al in ended:
            print(
                f"{al.end_s - t_first:7.2f} s  back in range after {al.duration_s:.1f} s "
                f"(peak {al.peak_deg:+.0f}°)",
                flush=True,
            )
    print(f"{n_alerts} alert(s) in {float(lum.t[-1]) - t_first:.0f} s of streaming")
    return 0
