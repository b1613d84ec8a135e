"""``spinewatch thresholds PROFILE``: show, tune and save alert thresholds in a profile."""

from __future__ import annotations

import argparse

from spinewatch import argtypes as T
from spinewatch.fileio import OUTPUT_HELP, add_force_option


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from posture.thresholds import PRESETS

    p = sub.add_parser(
        "thresholds",
        help="show or change the alert thresholds saved in a calibration profile",
        description="Without options, show the thresholds a profile gives (saved ones, or the "
        "default fraction of your cat-cow range). --preset recomputes them from your ranges "
        "for an exercise; --set overrides planes in degrees either side of neutral. Changes "
        "are saved into the profile (or -o), so analyze, monitor, record and the GUI use them. "
        "Saving in place replaces the profile atomically; -o follows the overwrite rule."
        + OUTPUT_HELP,
    )
    p.add_argument("profile", help="calibration profile JSON")
    p.add_argument("--preset", choices=sorted(PRESETS), help="exercise preset (from your ranges)")
    p.add_argument(
        "--set",
        dest="spec",
        type=T.threshold_spec,
        help="flexion=DEG,lateral_flexion=DEG,rotation=DEG (each 0–90)",
    )
    p.add_argument(
        "--min-duration",
        type=T.float_in(0.0, 5.0, "s"),
        help="seconds beyond a limit before alerting, 0–5",
    )
    p.add_argument(
        "--hysteresis",
        type=T.float_in(0.0, 10.0, "deg"),
        help="degrees back inside before an alert ends, 0–10",
    )
    p.add_argument("--reset", action="store_true", help="forget saved thresholds")
    p.add_argument("-o", "--output", help="write the changed profile here instead of in place")
    add_force_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from calibration import CalibrationProfile
    from posture.thresholds import ThresholdError, Thresholds
    from spinewatch.events import thresholds_for
    from spinewatch.fileio import atomic_output, check_output

    if args.output:
        check_output(args.output, inputs=[args.profile], force=args.force)
    prof = CalibrationProfile.load(args.profile)
    changed = args.reset or any(
        v is not None for v in (args.preset, args.spec, args.min_duration, args.hysteresis)
    )
    if args.reset:
        prof = prof.with_thresholds(None)
    th = thresholds_for(prof, None)
    if args.preset:
        th = Thresholds.from_ranges(
            prof.ranges, args.preset, standing_flexion_deg=prof.standing_flexion_deg
        )
    if args.spec:
        th = Thresholds.parse(args.spec, th)
    if args.min_duration is not None:
        if not 0 <= args.min_duration <= 5:
            raise ThresholdError("--min-duration must be between 0 and 5 s")
        th = dataclasses.replace(th, min_duration_s=args.min_duration)
    if args.hysteresis is not None:
        if not 0 <= args.hysteresis <= 10:
            raise ThresholdError("--hysteresis must be between 0 and 10 deg")
        th = dataclasses.replace(th, hysteresis_deg=args.hysteresis)
    print(f"{'plane':16s} {'negative':>9s} {'positive':>9s}   (deg from your neutral)")
    for plane, (lo, hi) in th.limits.items():
        print(f"{plane.replace('_', ' '):16s} {lo:+9.1f} {hi:+9.1f}")
    print(f"alert after {th.min_duration_s:g} s beyond a limit; ends {th.hysteresis_deg:g}° inside")
    if changed:
        out = args.output or args.profile
        only_reset = args.reset and not (
            args.preset or args.spec or args.min_duration is not None or args.hysteresis is not None
        )
        prof = prof.with_thresholds(None if only_reset else th.to_json_dict())
        # In place is what this command is for: the profile is replaced, atomically.
        with atomic_output(out, force=True, checked=bool(args.output)) as tmp:
            prof.save(tmp)
        print(f"saved in {out}")
    return 0
