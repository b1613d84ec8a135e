"""``spinewatch report SESSION -o report.html``."""

from __future__ import annotations

import argparse

from spinewatch.fileio import OUTPUT_HELP, add_force_option
from spinewatch.progress import add_quiet_option


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "report",
        help="a self-contained HTML report of a session (plots, sets, reps, alerts)",
        description="Angle-vs-time plots with the alert limits and alerts, per-set and per-rep "
        "tables (peak flexion, hip share, alerts), the calibration used and link quality, in "
        "one HTML file with no external resources. Everything taken from the session file is "
        "HTML-escaped. A file that is not a readable spinewatch session is refused (exit 2) "
        "and never modified." + OUTPUT_HELP,
    )
    p.add_argument("session", help="session name or file")
    p.add_argument("-o", "--output", required=True, help="HTML file to write")
    p.add_argument(
        "--batch",
        action="store_true",
        help="show the batch estimate re-analysed from the raw samples (as 'analyze': the "
        "best estimate) instead of the angles, alerts and reps recorded live",
    )
    add_force_option(p)
    add_quiet_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from spinewatch.fileio import atomic_output, check_output
    from spinewatch.progress import progress, track_session
    from spinewatch.sessions import SessionFile, resolve
    from spinewatch.sessions.report import write_report
    from spinewatch.sessions.store import session_files

    path = resolve(args.session)
    check_output(args.output, inputs=session_files(path), force=args.force)
    with SessionFile(path) as sf:
        s = sf.summary()
        with progress("report", s.duration_s, quiet=args.quiet) as up:
            track_session(sf, up)
            res = None
            if args.batch:
                from spinewatch.sessions.reanalysis import reanalyze_session

                res = reanalyze_session(sf)
            with atomic_output(args.output, checked=True) as tmp:
                write_report(sf, tmp, res)
    n_reps, n_alerts = (s.reps, s.alerts) if res is None else (len(res.reps), len(res.alerts))
    what = " (batch estimate)" if res is not None else ""
    print(f"report of {s.name}{what} ({n_reps} reps, {n_alerts} alerts) -> {args.output}")
    return 0
