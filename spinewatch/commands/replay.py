"""``spinewatch replay SESSION [--speed X] [--profile P] [--thresholds ...]``."""

from __future__ import annotations

import argparse

from spinewatch import argtypes as T
from spinewatch.fileio import OUTPUT_HELP, add_force_option


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "replay",
        help="replay a recorded session through the live pipeline (or re-analyse it)",
        description="Feed the stored raw blocks through the same live pipeline, in the same "
        "order, and print alerts as they happen. With the recording's own settings the result "
        "is the live result bit for bit; --profile/--thresholds/--load re-analyse it: with "
        "--speed 0 on the batch estimate of the whole recording, as 'analyze' (--live: through "
        "the live pipeline). The session file is only read." + OUTPUT_HELP,
    )
    p.add_argument("session", help="session name or file")
    p.add_argument(
        "--speed",
        type=T.speed,
        default=1.0,
        help="0–1000: 1 = real time, 10 = 10x, 0 = as fast as possible",
    )
    p.add_argument("--profile", help="another calibration profile JSON")
    p.add_argument(
        "--thresholds",
        type=T.threshold_spec,
        help="flexion=DEG,lateral_flexion=DEG,rotation=DEG (each 0–90)",
    )
    p.add_argument("--load", choices=("auto", "always", "never"), help="load context mode")
    p.add_argument("-o", "--output", help="write the replayed angles CSV here")
    p.add_argument("--events", help="write the replayed alerts and reps JSON here")
    p.add_argument("--quiet", action="store_true", help="do not print alerts as they happen")
    p.add_argument(
        "--live",
        action="store_true",
        help="re-analyse through the live pipeline (what live would have shown) instead of "
        "the batch estimate (a re-analysis at --speed 0 uses batch by default)",
    )
    add_force_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from calibration import CalibrationProfile
    from posture.live import LiveUpdate
    from posture.thresholds import Thresholds
    from spinewatch.console import LiveLines
    from spinewatch.events import thresholds_for
    from spinewatch.fileio import OutputError, atomic_output, check_output, dumps_json, same_path
    from spinewatch.progress import progress
    from spinewatch.sessions import SessionFile, resolve
    from spinewatch.sessions.replay import STORED_PROFILE, replay_session
    from spinewatch.sessions.store import session_files

    path = resolve(args.session)
    inputs = [*session_files(path), args.profile]
    for out in (args.output, args.events):
        if out:
            check_output(out, inputs=inputs, force=args.force)
    if args.output and args.events and same_path(args.output, args.events):
        raise OutputError("--events and -o name the same file; give two file names")
    with SessionFile(path) as sf:
        profile: CalibrationProfile | None = None
        thresholds: Thresholds | None = None
        if args.profile:
            profile = CalibrationProfile.load(args.profile)
            thresholds = thresholds_for(profile, args.thresholds)
        elif args.thresholds:
            thresholds = Thresholds.parse(args.thresholds, sf.thresholds())
        same = thresholds is None and args.load in (None, sf.load_settings().mode)
        # A re-analysis as fast as possible is the batch estimate, unless --live.
        batch = not (same or args.speed > 0 or args.live)
        prof = profile if args.profile else STORED_PROFILE

        lines = LiveLines(origin=0.0, width=10, ended=False, reps=False)
        s = sf.summary()
        with progress("replay", s.duration_s, quiet=args.quiet or args.speed > 0) as bar:

            def on_update(up: LiveUpdate) -> None:
                if len(up.angles):
                    bar(float(up.angles.t[-1]) - s.t0)
                if not args.quiet:
                    for line in lines(up):
                        print(line)

            if not batch:
                res = replay_session(
                    sf, prof, thresholds, args.load, speed=args.speed, on_update=on_update
                )
            else:  # a re-analysis: the batch estimate (docs/archive.md, "Batch and live")
                from spinewatch.sessions.reanalysis import reanalyze_session

                res = reanalyze_session(sf, prof, thresholds, args.load)
                bar(s.duration_s)
                if not args.quiet:
                    for al in sorted(res.raised, key=lambda a: a.alert_s):
                        print(lines.alert(al))
        print(
            f"{'re-analysed (batch)' if batch else 'replayed'} "
            f"{len(res.angles)} angle samples: {len(res.alerts)} alerts, "
            f"{len(res.reps)} reps"
        )
        if same:
            live, _ = sf.angles()
            ok = (
                len(live) == len(res.angles)
                and np.array_equal(live.flexion, res.angles.flexion, equal_nan=True)
                and sorted(res.alerts, key=lambda a: (a.start_s, a.plane, a.side)) == sf.alerts()
                and res.reps == sf.reps()
            )
            print(
                "identical to the live recording"
                if ok
                else "differs from the live recording (was it interrupted mid-way?)"
            )
    if args.output:
        from posture.anglescsv import write_angles_csv

        with atomic_output(args.output, checked=True) as tmp:
            write_angles_csv(tmp, res.angles)
        print(f"angles -> {args.output}")
    if args.events:
        from posture.reps import fatigue_slope

        th = thresholds or sf.thresholds()
        doc = {
            "schema_version": 1,
            "thresholds": th.to_json_dict(),
            "load": args.load or sf.load_settings().mode,
            "alerts": [a.to_json_dict() for a in res.alerts],
            "reps": [r.to_json_dict() for r in res.reps],
            "summary": {
                "alerts": len(res.alerts),
                "reps": len(res.reps),
                "flexion_drift_deg_per_rep": round(fatigue_slope(res.reps), 3),
            },
        }
        with atomic_output(args.events, checked=True) as tmp:
            tmp.write_text(dumps_json(doc) + "\n", encoding="utf-8")
        print(f"events -> {args.events}")
    return 0
