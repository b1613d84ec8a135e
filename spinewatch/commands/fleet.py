"""``spinewatch fleet [--archive DIR] [--format table|json|csv] [--html OUT] [--sql QUERY]``."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "fleet",
        help="per wearer and week: time under load, alerts per loaded hour, reps (DuckDB)",
        description="Queries the archive with DuckDB: per wearer and ISO week the time under "
        "load, alerts per loaded hour by plane and side, reps, median hip share, share of "
        "rounded reps and flexion drift within sets. --sql runs your own query on the same "
        "views (sessions, sets, reps, alerts, seconds, raw, weekly; docs/archive.md).",
    )
    p.add_argument(
        "--archive", metavar="DIR", help="archive folder or URI (default: $SPINEWATCH_HOME/archive)"
    )
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.add_argument("--html", metavar="OUT", help="also write a self-contained HTML page with plots")
    p.add_argument("--sql", metavar="QUERY", help="run this query instead of the weekly report")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from spinewatch.archive.dataset import default_archive
    from spinewatch.archive.fleet import fleet_rows, open_archive
    from spinewatch.archive.fleetout import render, write_html

    uri = args.archive or default_archive()
    con = open_archive(uri)
    if args.sql:
        import duckdb

        from spinewatch.archive import ArchiveError

        try:
            rows = fleet_rows(con, args.sql)
        except duckdb.Error as exc:
            raise ArchiveError(f"--sql: {exc}") from None
    else:
        rows = fleet_rows(con)
    sys.stdout.write(render(rows, args.format, title=f"Fleet report — {uri}"))
    if args.html:
        write_html(
            rows if not args.sql else fleet_rows(con), args.html, title=f"Fleet report — {uri}"
        )
        print(f"HTML -> {args.html}", file=sys.stderr)
    return 0
