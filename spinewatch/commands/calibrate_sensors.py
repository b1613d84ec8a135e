"""``spinewatch calibrate-sensors TABLE.csv -o SENSORS.json``: each sensor's accelerometer
bias and scale from a table recording (six faces) → a sensor calibration file."""

from __future__ import annotations

import argparse

from spinewatch import argtypes as T
from spinewatch.fileio import OUTPUT_HELP, add_force_option


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "calibrate-sensors",
        help="calibrate the sensors' accelerometers on a table (once per sensor)",
        description="Record both sensors (taped together, or side by side) resting still on a "
        "table on each of their six faces for about 5 s, turning them by hand in between. "
        "Fits bias and scale of each accelerometer axis and writes them per sensor id; give "
        "the file to 'spinewatch calibrate --sensors' so the wearer's profile carries the "
        "correction into analyze, replay, report and live. Exits 2 with the face that is "
        "missing when a pose set cannot fix every axis." + OUTPUT_HELP,
    )
    p.add_argument("raw", help="raw IMU CSV of the table recording (docs/formats.md)")
    T.add_units_option(p)
    p.add_argument("-o", "--output", required=True, help="sensor calibration JSON to write")
    p.add_argument("--thoracic-id", default="thoracic", help="sensor id of the thoracic sensor")
    p.add_argument("--lumbar-id", default="lumbar", help="sensor id of the lumbar sensor")
    add_force_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from calibration.sensor_table import fit_table, save_sensor_calibration
    from posture.units import read_raw_si
    from spinewatch.fileio import atomic_output, check_output

    check_output(args.output, inputs=[args.raw], force=args.force)
    raw = read_raw_si(args.raw, args.units)
    ids = {"thoracic": args.thoracic_id, "lumbar": args.lumbar_id}
    corr = fit_table({ids[r]: b for r, b in raw.items()})
    with atomic_output(args.output, checked=True) as tmp:
        save_sensor_calibration(tmp, corr)
    for sid, c in corr.items():
        bias = ", ".join(f"{x:+.3f}" for x in c.bias)
        scale = ", ".join(f"{100 * (x - 1):+.2f}" for x in c.scale)
        print(f"{sid}: bias [{bias}] m/s², scale error [{scale}] %, {c.info['poses']} poses")
    print(f"sensor calibration written to {args.output}")
    return 0
