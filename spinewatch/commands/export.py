"""``spinewatch export SESSION --format csv|angles|events|parquet|sto -o PATH``."""

from __future__ import annotations

import argparse

from spinewatch.fileio import OUTPUT_HELP, add_force_option
from spinewatch.lazy import LazyChoices
from spinewatch.progress import add_quiet_option


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "export",
        help="export a recorded session (raw CSV, angles, events, Parquet, OpenSim .sto)",
        description="csv: the raw import format (re-imports exactly); angles: the angles CSV of "
        "'analyze'; events: alerts, reps, sets and notes as CSV; parquet: a folder of Parquet "
        "tables; sto: OpenSim/OpenSense quaternion orientations per sensor. "
        "See docs/formats.md. A file that is not a readable spinewatch session is refused "
        "(exit 2) and never modified. CSV text cells starting with = + - @ are prefixed with "
        "' against spreadsheet formula injection." + OUTPUT_HELP,
    )
    p.add_argument("session", help="session name or file")
    p.add_argument(
        "--format",
        choices=LazyChoices("spinewatch.sessions.exports:FORMATS"),
        metavar="FORMAT",
        required=True,
        help="%(choices)s",
    )
    p.add_argument("-o", "--output", required=True, help="file (folder for parquet) to write")
    add_force_option(p)
    add_quiet_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from spinewatch.fileio import atomic_output, check_output
    from spinewatch.progress import progress, track_session
    from spinewatch.sessions.exports import export
    from spinewatch.sessions.reader import SessionFile
    from spinewatch.sessions.store import resolve, session_files

    path = resolve(args.session)
    folder = args.format == "parquet"
    check_output(args.output, inputs=session_files(path), force=args.force, folder=folder)
    with SessionFile(path) as sf, atomic_output(args.output, folder=folder, checked=True) as tmp:
        with progress(f"export {args.format}", sf.summary().duration_s, quiet=args.quiet) as up:
            track_session(sf, up)
            done = export(sf, args.format, tmp)
    print(done.replace(str(tmp), str(args.output)))
    return 0
