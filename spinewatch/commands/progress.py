"""``spinewatch progress``: per-drill score trends over sessions and weeks."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "progress",
        help="coach-mode progress: per-drill score trends over weeks (table, --html plots)",
        description="Show, per drill, the score of every stored set (from 'spinewatch train') "
        "and its trend over sessions and weeks: first and last week, slope per week, hip "
        "share. --html writes a page with one plot per drill.",
    )
    p.add_argument("--drill", metavar="NAME", help="only this drill")
    p.add_argument("--html", metavar="OUT", help="write an HTML page with SVG plots")
    p.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rich.console import Console
    from rich.table import Table

    from posture.drills import get_spec
    from posture.errors import SpinewatchError
    from spinewatch.coach.progress import HEADERS, table_rows, trends, write_html
    from spinewatch.coach.store import ProgressStore

    if args.drill:
        get_spec(args.drill)  # a clear error for an unknown name
    store = ProgressStore()
    ts = trends(store.load(), args.drill)
    con = Console(highlight=False)
    if not ts:
        con.print(f"no drill results in {store.path}; train with 'spinewatch train'")
        return 0
    table = Table(title="Coach progress (score 0–100)", header_style="bold")
    for h in HEADERS:
        table.add_column(h, justify="left" if h == "drill" else "right")
    for row in table_rows(ts):
        table.add_row(*row)
    con.print(table)
    if args.html:
        out = Path(args.html)
        if out.exists() and not args.force:
            raise SpinewatchError(f"{out} exists; pass --force to overwrite it")
        if not out.parent.is_dir():
            raise SpinewatchError(f"{out.parent}: no such folder for the HTML page")
        con.print(f"wrote {write_html(ts, out)}")
    return 0
