"""``spinewatch archive [SESSION ...] [--to DIR|URI] [--wearer ID] [--raw]``: the team archive."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "archive",
        help="copy sessions into a Hive-partitioned Parquet archive (incremental)",
        description="Copies sessions (default: every session in the sessions folder) into a "
        "Parquet dataset partitioned as table=…/wearer=…/date=…, in $SPINEWATCH_HOME/archive "
        "or --to (a folder or an object-store URI pyarrow supports, e.g. s3://bucket/archive). "
        "Re-running adds only new or changed sessions; an interrupted run is completed by the "
        "next one. See docs/archive.md.",
    )
    p.add_argument("session", nargs="*", help="session names or files (default: all)")
    p.add_argument(
        "--to", metavar="DIR", help="archive folder or URI (default: $SPINEWATCH_HOME/archive)"
    )
    p.add_argument(
        "--wearer",
        metavar="ID",
        help="wearer id for these sessions (default: from the session/profile)",
    )
    p.add_argument(
        "--raw",
        action="store_true",
        help="also archive the raw samples (needed by 'reanalyze' without the session files)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from spinewatch.archive.dataset import archive_sessions, default_archive, session_paths

    dest = args.to or default_archive()
    paths = session_paths(args.session)
    rep = archive_sessions(paths, dest, wearer=args.wearer, raw=args.raw)
    rows = ", ".join(f"{n} {t}" for t, n in sorted(rep.rows.items()))
    print(
        f"{len(rep.added)} added, {len(rep.changed)} changed, {rep.unchanged} unchanged, "
        f"{len(rep.skipped)} skipped -> {dest} (version {rep.version})"
        + (f"; rows: {rows}" if rows else "")
    )
    for s in rep.skipped:
        print(f"  skipped: {s}")
    return 0
