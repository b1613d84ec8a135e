"""``spinewatch analyze RAW.csv --profile PROFILE.json -o ANGLES.csv``."""

from __future__ import annotations

import argparse

from spinewatch import argtypes as T
from spinewatch.fileio import OUTPUT_HELP, add_force_option
from spinewatch.progress import add_quiet_option


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "analyze",
        help="spine angles from a raw recording",
        description="Fuse both sensors, align their clocks, apply the calibration profile and "
        "write spine angles relative to the wearer's neutral (degrees)." + OUTPUT_HELP,
    )
    p.add_argument("raw", help="raw IMU CSV (docs/formats.md)")
    T.add_units_option(p)
    p.add_argument("--profile", help="calibration profile JSON (without: uncalibrated angles)")
    p.add_argument("-o", "--output", required=True, help="angles CSV to write")
    p.add_argument("--events", help="alerts and reps JSON to write (NaN written as null)")
    p.add_argument(
        "--load",
        choices=("auto", "always", "never"),
        default="auto",
        help="when the spine counts as under load (default auto: hip-hinge lifts, needs "
        "--profile; see docs/load.md)",
    )
    p.add_argument(
        "--thresholds",
        type=T.threshold_spec,
        help="absolute alert limits either side of neutral, deg, e.g. "
        "flexion=20,lateral_flexion=15,rotation=10 (override the profile)",
    )
    p.add_argument("--mag", action="store_true", help="9D fusion with the magnetometer")
    add_force_option(p)
    p.add_argument(
        "--clock",
        choices=("auto", "fit", "shared"),
        default="auto",
        help="thoracic clock: auto (default) fits offset and drift from the gyroscopes and "
        "applies them only when confidently non-zero, and trusts files marked 'clock: host'; "
        "fit always applies the fit; shared assumes one time base",
    )
    add_quiet_option(p)
    p.set_defaults(func=run)


def _keep_freed_memory() -> None:
    """Let glibc's malloc keep freed memory for reuse instead of handing it back to the kernel.

    The analysis makes hundreds of short-lived arrays of 1–4 MB; by default each is mapped
    fresh and every page of it faults in again (zeroed by the kernel): about a seventh of the
    command's CPU time went to system time. With both thresholds high the heap is reused
    (~25 % fewer page faults, peak memory unchanged). The mmap threshold is 32 MiB, the most
    every glibc accepts on 64 bits (HEAP_MAX_SIZE / 2; some refuse more); the trim threshold
    is set only once that took, since setting it alone switches off the dynamic mmap
    threshold and maps every array afresh. Not glibc (macOS, musl): nothing done.
    """
    import sys

    if not sys.platform.startswith("linux"):
        return
    import ctypes  # (already imported by numpy)

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # <malloc.h>
    if mallopt(m_mmap_threshold, 32 << 20) == 1:
        mallopt(m_trim_threshold, 1 << 30)


def run(args: argparse.Namespace) -> int:
    import os

    from posture.forked import Threaded
    from posture.rawcsv import raw_csv_clock  # (imports pyarrow here, not in the thread below)
    from posture.units import read_raw_declared, units_checked_alongside
    from spinewatch.fileio import (
        OutputError,
        atomic_output,
        check_output,
        dumps_json,
        same_path,
    )

    _keep_freed_memory()
    # Every output is checked before the (possibly long) work starts.
    inputs = (args.raw, args.profile)
    check_output(args.output, inputs=inputs, force=args.force)
    if args.events:
        check_output(args.events, inputs=inputs, force=args.force)
        if same_path(args.events, args.output):
            raise OutputError("--events and -o name the same file; give two file names")
    # Reading starts on a second thread while the rest of the command is imported: pyarrow's
    # parser lets go of the GIL, imports do not (so pyarrow was imported first). Its errors
    # are raised below, after the profile's.
    reading = Threaded(lambda: read_raw_declared(args.raw, args.units))
    from calibration import CalibrationProfile
    from posture.anglescsv import ColumnsAhead, write_angles_csv
    from posture.batch import analyze_offline
    from posture.engine import EngineSettings
    from posture.fusion import FusionSettings
    from spinewatch.progress import progress

    profile = CalibrationProfile.load(args.profile) if args.profile else None
    size_mb = os.path.getsize(args.raw) / 1e6 if os.path.isfile(args.raw) else 0.0
    with progress("analyze", size_mb, unit="MB", quiet=args.quiet) as step:
        # In stages (the batch analysis is one call), in MB of the raw file.
        step(0.0, "reading")
        raw, units = reading.result()
        step(0.2 * size_mb, "fusion and angles")
        settings = EngineSettings(fusion=FusionSettings(use_mag=args.mag))
        clock = args.clock
        with units_checked_alongside(raw, args.raw, units):  # (its error first)
            if clock == "auto" and raw_csv_clock(args.raw) == "host":
                clock = "shared"  # written by stream/export: already on host time
            if profile is not None:  # in-field accelerometer calibration (no table one)
                from calibration.field_session import profile_for_session

                profile = profile_for_session(profile, raw)
        # The saved record is the batch estimate (whole recording; see README "How it works").
        angles = analyze_offline(
            raw,
            profile.spine_model if profile else None,
            settings,
            clock,
            profile.standing_flexion_deg if profile else None,
            parallel=True,  # a command-line process: fork per sensor (posture.forked)
            early=(ahead := ColumnsAhead()),  # (formats columns while the rest is worked out)
        )
        if len(angles) == 0:
            from posture.errors import PostureError

            raise PostureError(
                f"{args.raw}: no spine angles: the two sensors' samples do not overlap in time "
                "(record both sensors together for at least a second)"
            )
        events = None
        if args.events:
            from spinewatch.events import events_for

            events = events_for(angles, profile, args.load, args.thresholds)
        step(0.85 * size_mb, "writing")
        with atomic_output(args.output, checked=True) as tmp:
            write_angles_csv(tmp, angles, ahead)
        step(size_mb)
    n_gap = int((angles.flags & 1).astype(bool).sum())
    print(
        f"{len(angles)} samples, {angles.t[-1] - angles.t[0]:.1f} s"
        + (f", {n_gap} in sensor gaps" if n_gap else "")
        + ("" if profile else " (uncalibrated: pass --profile for angles from your neutral)")
        + f" -> {args.output}"
    )
    if profile is not None:
        from calibration.field_session import describe

        if (line := describe(profile)) is not None:
            print(line)
    if events is not None:
        if "load_warning" in events:
            import sys

            print(f"warning: {events['load_warning']}", file=sys.stderr)
        with atomic_output(args.events, checked=True) as tmp:
            tmp.write_text(dumps_json(events) + "\n", encoding="utf-8")
        print(f"{len(events['alerts'])} alerts, {len(events['reps'])} reps -> {args.events}")
    return 0
