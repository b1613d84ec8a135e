"""``spinewatch reanalyze --archive DIR [--thresholds …] [--profile-dir …] [--workers N]``."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "reanalyze",
        help="re-run the engine over every archived session (Dask) into a new archive version",
        description="Re-analyses every archived session's raw samples with new thresholds "
        "and/or profiles — the batch estimate over the whole recording, as 'analyze' (or "
        "--live: replayed through the live pipeline, as 'replay') — and writes the results "
        "as a new archive version (older "
        "analyses are kept). Runs on a local Dask cluster of worker processes, or on the "
        "cluster at --scheduler (the archive must be on storage the workers reach). Raw "
        "samples come from the archive ('archive --raw') or else the session files. "
        "See docs/archive.md.",
    )
    p.add_argument(
        "--archive", metavar="DIR", help="archive folder or URI (default: $SPINEWATCH_HOME/archive)"
    )
    p.add_argument(
        "--thresholds", metavar="SPEC", help="flexion=DEG,lateral_flexion=DEG,rotation=DEG"
    )
    p.add_argument(
        "--profile-dir",
        metavar="DIR",
        help="calibration profiles named WEARER.json (others keep theirs)",
    )
    p.add_argument(
        "--live",
        action="store_true",
        help="replay through the live pipeline (what the wearer would have seen; much slower) "
        "instead of the batch estimate",
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="an existing Dask scheduler")
    g.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="local worker processes (0: in this process; default: one per CPU)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from posture.errors import SpinewatchError
    from spinewatch.archive.dataset import default_archive
    from spinewatch.archive.reanalyze import reanalyze

    if args.workers is not None and args.workers < 0:
        raise SpinewatchError(f"--workers {args.workers}: give 0 or more")
    if args.thresholds:
        from posture.thresholds import Thresholds

        Thresholds.parse(args.thresholds)  # a malformed spec fails here, not on every worker
    uri = args.archive or default_archive()
    rep = reanalyze(
        uri,
        thresholds=args.thresholds,
        profile_dir=args.profile_dir,
        scheduler=args.scheduler,
        workers=args.workers,
        live=args.live,
    )
    rows = ", ".join(f"{n} {t}" for t, n in sorted(rep.rows.items()))
    print(
        f"{rep.sessions} sessions re-analysed on {rep.where} -> {uri} "
        f"version {rep.version}; rows: {rows}"
    )
    return 0
