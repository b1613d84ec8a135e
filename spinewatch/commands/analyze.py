"""``spinewatch analyze RAW.csv --profile PROFILE.json -o ANGLES.csv``."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "analyze",
        help="spine angles from a raw recording",
        description="Fuse both sensors, align their clocks, apply the calibration profile and "
        "write spine angles relative to the wearer's neutral (degrees).",
    )
    p.add_argument("raw", help="raw IMU CSV (docs/formats.md)")
    p.add_argument("--profile", help="calibration profile JSON (without: uncalibrated angles)")
    p.add_argument("-o", "--output", required=True, help="angles CSV to write")
    p.add_argument("--events", help="alerts and reps JSON to write")
    p.add_argument(
        "--load",
        choices=("auto", "always", "never"),
        default="auto",
        help="when the spine counts as under load (default auto: hip-hinge lifts, needs "
        "--profile; see docs/load.md)",
    )
    p.add_argument(
        "--thresholds",
        help="absolute alert limits either side of neutral, deg, e.g. "
        "flexion=20,lateral_flexion=15,rotation=10 (override the profile)",
    )
    p.add_argument("--mag", action="store_true", help="9D fusion with the magnetometer")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from calibration import CalibrationProfile
    from posture.anglescsv import write_angles_csv
    from posture.engine import EngineSettings, analyze
    from posture.fusion import FusionSettings
    from posture.rawcsv import read_raw_csv

    profile = CalibrationProfile.load(args.profile) if args.profile else None
    raw = read_raw_csv(args.raw)
    settings = EngineSettings(fusion=FusionSettings(use_mag=args.mag))
    angles = analyze(raw, profile.spine_model if profile else None, settings)
    write_angles_csv(args.output, angles)
    n_gap = int((angles.flags & 1).astype(bool).sum())
    print(
        f"{len(angles)} samples, {angles.t[-1] - angles.t[0]:.1f} s"
        + (f", {n_gap} in sensor gaps" if n_gap else "")
        + ("" if profile else " (uncalibrated: pass --profile for angles from your neutral)")
        + f" -> {args.output}"
    )
    if args.events:
        import json

        from spinewatch.events import events_for

        events = events_for(angles, profile, args.load, args.thresholds)
        if "load_warning" in events:
            import sys

            print(f"warning: {events['load_warning']}", file=sys.stderr)
        with open(args.events, "w", encoding="utf-8") as fh:
            json.dump(events, fh, indent=2, allow_nan=False, default=str)
        print(f"{len(events['alerts'])} alerts, {len(events['reps'])} reps -> {args.events}")
    return 0
