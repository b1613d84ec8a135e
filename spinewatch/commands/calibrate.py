"""``spinewatch calibrate RAW.csv -o PROFILE.json``: standing + cat-cow → wearer profile."""

from __future__ import annotations

import argparse

from spinewatch import argtypes as T
from spinewatch.fileio import OUTPUT_HELP, add_force_option


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "calibrate",
        help="make a calibration profile from a standing + cat-cow recording",
        description="Find sensor mountings and the neutral spine (halfway between fullest "
        "flexion and extension) from ~5 s of quiet standing followed by at least three "
        "slow cat-cow cycles. Exits non-zero with a one-line reason when the recording "
        "cannot be used (exit 2)." + OUTPUT_HELP,
    )
    p.add_argument("raw", help="raw IMU CSV (docs/formats.md)")
    T.add_units_option(p)
    p.add_argument("-o", "--output", required=True, help="profile JSON to write")
    p.add_argument("--thoracic-id", default="thoracic", help="sensor id to store for thoracic")
    p.add_argument("--lumbar-id", default="lumbar", help="sensor id to store for lumbar")
    p.add_argument(
        "--sensors",
        metavar="SENSORS.json",
        help="accelerometer corrections from 'spinewatch calibrate-sensors' (looked up by "
        "sensor id); the profile keeps them for every later analysis",
    )
    add_force_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from calibration import calibrate
    from posture.units import read_raw_si
    from spinewatch.console import print_profile
    from spinewatch.fileio import atomic_output, check_output

    check_output(args.output, inputs=[args.raw], force=args.force)
    raw = read_raw_si(args.raw, args.units)
    ids = {"thoracic": args.thoracic_id, "lumbar": args.lumbar_id}
    corr = None
    if args.sensors:
        from calibration.sensor_table import corrections_for

        corr = corrections_for(args.sensors, ids)
    profile = calibrate(raw, sensor_ids=ids, acc_correction=corr)
    with atomic_output(args.output, checked=True) as tmp:
        profile.save(tmp)
    print_profile(profile)
    print(f"profile written to {args.output}")
    return 0
