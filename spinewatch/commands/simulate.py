"""``spinewatch simulate SCRIPT -o RAW.csv --truth TRUTH.csv``: simulated wearer with truth."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from spinewatch import argtypes as T
from spinewatch.fileio import OUTPUT_HELP, add_force_option
from spinewatch.lazy import LazyChoices

if TYPE_CHECKING:
    from sim.wearer import SimConfig


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulated wearer: raw IMU CSV plus ground truth",
        description="Generate raw data of both sensors for a scripted movement, with the "
        "noise, bias, mounting and clock faults of real sensors, and its ground truth."
        + OUTPUT_HELP,
    )
    p.add_argument(
        "script",
        choices=LazyChoices("sim.wearer:RECORDINGS"),
        metavar="SCRIPT",
        help="movement script: %(choices)s (sensor-table: both sensors resting on their six "
        "faces, the recording 'spinewatch calibrate-sensors' takes)",
    )
    p.add_argument("-o", "--output", required=True, help="raw CSV to write")
    p.add_argument("--truth", help="ground-truth CSV to write")
    p.add_argument("--seed", type=T.seed, default=0, help="wearer and noise seed (default 0)")
    p.add_argument(
        "--rate", type=T.float_in(50.0, 400.0, "Hz"), default=200.0, help="sensor rate, Hz (50–400)"
    )
    p.add_argument(
        "--duration",
        type=T.float_in(0.0, 14400.0, "s", lo_open=True),
        help="length in s, up to 4 h (scripts that take one)",
    )
    p.add_argument("--ideal", action="store_true", help="no noise, bias, wobble or clock faults")
    p.add_argument(
        "--clock-offset",
        type=T.float_in(-3600.0, 3600.0, "s"),
        default=0.0,
        help="thoracic clock offset, ±3600 s",
    )
    p.add_argument(
        "--clock-drift-ppm",
        type=T.float_in(-1000.0, 1000.0, "ppm"),
        default=0.0,
        help="thoracic clock drift, ±1000 ppm",
    )
    p.add_argument(
        "--drop",
        type=T.float_in(0.0, 0.5),
        default=0.0,
        help="probability a sample is lost, 0–0.5",
    )
    p.add_argument(
        "--clock",
        choices=("separate", "shared"),
        default="separate",
        help="separate sensor clocks (default) or one shared time base (no offset or drift)",
    )
    p.add_argument("--reps", help="true reps and sets JSON to write")
    add_force_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from posture.errors import PostureError
    from posture.rawcsv import write_raw_csv
    from sim.wearer import PHASES, SENSOR_TABLE, SimConfig, simulate
    from spinewatch.fileio import OutputError, atomic_output, check_output, dumps_json, same_path

    if not 50.0 <= args.rate <= 400.0:
        raise PostureError(f"--rate {args.rate:g} Hz is outside 50–400 Hz")
    check_output(args.output, force=args.force)
    if args.reps:
        check_output(args.reps, force=args.force)
    if args.truth:
        check_output(args.truth, force=args.force)
        if same_path(args.truth, args.output):
            raise OutputError("--truth and -o name the same file; give two file names")
    cfg = SimConfig(
        rate_hz=args.rate,
        seed=args.seed,
        ideal=args.ideal,
        clock_offset_s=args.clock_offset,
        clock_drift_ppm=args.clock_drift_ppm,
        drop_prob=args.drop,
        clock=args.clock,
    )
    if args.script == SENSOR_TABLE:
        return _sensor_table(args, cfg)
    res = simulate(args.script, cfg, duration_s=args.duration)
    comments = [
        f"spinewatch simulate {args.script} seed={args.seed} rate={args.rate:g}Hz",
        f"true neutral: {res.wearer.neutral_from_standing:.3f} deg flexion from standing",
    ]
    with atomic_output(args.output, checked=True) as tmp:
        write_raw_csv(tmp, res.raw, comments=comments)
    if args.truth:
        tr = res.truth
        cols = np.column_stack(
            (
                tr.t,
                tr.flexion,
                tr.lateral_flexion,
                tr.rotation,
                tr.thoracic_inclination,
                tr.lumbar_inclination,
                tr.hip_angle,
                tr.under_load.astype(int),
            )
        )
        with atomic_output(args.truth, checked=True) as tmp, tmp.open("w", encoding="utf-8") as fh:
            fh.write(
                "time_s,flexion_deg,lateral_flexion_deg,rotation_deg,"
                "thoracic_inclination_deg,lumbar_inclination_deg,hip_angle_deg,"
                "under_load,phase\n"
            )
            for row, ph in zip(cols, tr.phase, strict=True):
                fh.write(",".join(f"{v:.6f}" for v in row[:7]) + f",{int(row[7])},{PHASES[ph]}\n")
    if args.reps:
        from dataclasses import asdict

        doc = {
            "schema_version": 1,
            "script": args.script,
            "seed": args.seed,
            "reps": [asdict(r) for r in res.truth.reps],
            "sets": [{"start_s": a, "end_s": b} for a, b in res.truth.sets],
        }
        with atomic_output(args.reps, checked=True) as tmp:
            tmp.write_text(dumps_json(doc, indent=1) + "\n", encoding="utf-8")
    n = {r: len(b) for r, b in res.raw.items()}
    print(
        f"{args.script}: {n['lumbar']} lumbar + {n['thoracic']} thoracic samples -> "
        f"{args.output}" + (f", truth -> {args.truth}" if args.truth else "")
    )
    return 0


def _sensor_table(args: argparse.Namespace, cfg: SimConfig) -> int:
    """The table recording of this seed's two sensors (the same accelerometer faults as in
    every other recording of the seed, plus this power-up's own part)."""
    from posture.errors import PostureError
    from posture.rawcsv import write_raw_csv
    from sim.table import table_recording
    from spinewatch.fileio import atomic_output

    for flag, given in (
        ("--truth", args.truth),
        ("--reps", args.reps),
        ("--duration", args.duration),
    ):
        if given:
            raise PostureError(
                f"{flag} does not apply to sensor-table (sensors resting on a table, off the "
                "body); leave it out"
            )
    comments = [
        f"spinewatch simulate sensor-table seed={args.seed} rate={args.rate:g}Hz",
        "both sensors resting on each of their six faces; fit with spinewatch calibrate-sensors",
    ]
    with atomic_output(args.output, checked=True) as tmp:
        write_raw_csv(tmp, table_recording(cfg), comments=comments)
    print(
        f"table recording written to {args.output}; next: spinewatch calibrate-sensors "
        f"{args.output} -o sensors.json"
    )
    return 0
