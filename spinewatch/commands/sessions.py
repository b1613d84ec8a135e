"""``spinewatch sessions list|show|delete``: the recorded sessions in the sessions folder."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "sessions",
        help="list, show or delete recorded sessions",
        description="Sessions live in $SPINEWATCH_HOME/sessions (default "
        "~/.local/share/spinewatch/sessions). A session whose recorder died without closing "
        "it is shown as interrupted. Reading never modifies a file; a file that is not a "
        "spinewatch session, or a damaged one, is refused with a one-line error (exit 2) and "
        "listed as 'damaged: <reason>' by 'list', which still lists all the others. "
        "Exit codes: 0 done; 2 no such session, damaged or foreign file.",
    )
    act = p.add_subparsers(dest="action", metavar="ACTION")
    act.required = True
    act.add_parser("list", help="all sessions with duration, alerts, reps and status")
    show = act.add_parser("show", help="details of one session")
    show.add_argument("session", help="session name or file")
    rm = act.add_parser("delete", help="delete a session file")
    rm.add_argument("session", nargs="+", help="session name(s) or file(s)")
    p.set_defaults(func=run)


def _dur(s: float) -> str:
    h, rest = divmod(int(round(s)), 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}"


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from spinewatch.cli import one_line
    from spinewatch.sessions import SessionError, SessionFile, resolve, sessions_dir

    con = Console(highlight=False)
    if args.action == "list":
        files = sorted(sessions_dir().glob("*.sqlite"))
        if not files:
            con.print(f"no sessions in {sessions_dir()}; record one with 'spinewatch record'")
            return 0
        table = Table(title=f"Sessions in {sessions_dir()}", header_style="bold")
        for c in ("name", "duration", "samples", "dropped", "alerts", "reps", "status"):
            table.add_column(c, justify="left" if c in ("name", "status") else "right")
        for f in files:
            try:
                with SessionFile(f) as sf:
                    s = sf.summary()
            except SessionError as exc:
                reason = str(exc).removeprefix(f"{f}: ")
                table.add_row(f.stem, "", "", "", "", "", f"damaged: {one_line(reason)}")
                continue
            table.add_row(
                s.name,
                _dur(s.duration_s),
                str(sum(s.samples.values())),
                str(sum(s.dropped.values())),
                str(s.alerts),
                str(s.reps),
                s.status.value,
            )
        con.print(table)
        return 0
    if args.action == "show":
        import time

        with SessionFile(resolve(args.session)) as sf:
            s = sf.summary()
            prof = sf.profile()
        rows = [
            ("file", str(s.path)),
            ("status", s.status.value),
            ("recorded", time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(s.created_unix))),
            ("source", s.source),
            ("duration", f"{_dur(s.duration_s)} ({s.t0:.3f} s … {s.t1:.3f} s)"),
            *(
                (f"{r} samples", f"{n} ({s.dropped.get(r, 0)} dropped)")
                for r, n in s.samples.items()
            ),
            ("alerts", str(s.alerts)),
            ("reps", str(s.reps)),
            ("sets / notes", f"{s.sets} / {s.notes}"),
            (
                "calibration",
                "none (uncalibrated)" if prof is None else f"quality {prof.quality:.2f}",
            ),
            ("file size", f"{s.size_bytes / 1e6:.1f} MB"),
        ]
        table = Table(title=f"Session {s.name}", show_header=False)
        table.add_column(style="bold")
        table.add_column()
        for k, v in rows:
            table.add_row(k, v)
        con.print(table)
        return 0
    for name in args.session:
        path = resolve(name)
        with SessionFile(path) as sf:
            if sf.status.value == "recording":
                raise SessionError(f"{path} is being recorded right now; stop the recording first")
        from pathlib import Path

        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        con.print(f"deleted {path}")
    return 0
