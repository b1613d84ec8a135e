"""Team archive at scale (issue 15): archive, fleet and reanalyze over 100 and 1,000 sessions.

Writes docs/benchmarks/archive.md. Run:

    uv run python -m benchmarks.bench_archive                       # 100 and 1,000 sessions
    uv run python -m benchmarks.bench_archive --sizes 100 --repeat 3

How the sessions are made (fast, and said plainly): a few **base sessions** are recorded from
the simulator (short lifting sessions of different simulated wearers, recorded through the
real recorder and live pipeline). Each benchmark session is a **copy** of one base session
file (picked from a hash of wearer and day) whose ``meta`` gets its own session id, wearer
id and creation time (wearers × consecutive days, a random hour of the day). The copies
therefore hold the same samples as their base; every stage still does its full work per
session (content hash over all samples, reading, deriving, writing Parquet; the batch
estimate over every raw sample in ``reanalyze``), so throughput per session and per sample is
representative of short sessions; the fleet figures themselves are not interesting.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from benchmarks.collect import machine, write_fragment

T = TypeVar("T")

T0 = 1_790_000_000.0  # 2026-09-21, a Monday (UTC)
DAY = 86400.0


def record_base(path: Path, seed: int, seconds: float) -> Path:
    from calibration.profile import thresholds_for
    from sim.source import SimulatedSource
    from sim.wearer import SimConfig, calibrated_profile
    from spinewatch.sessions.recorder import Recorder

    prof = calibrated_profile(seed)
    src = SimulatedSource("lifting-session", seconds, SimConfig(seed=seed), speed=0, burst_s=0.5)
    rec = Recorder(src, path, prof, thresholds_for(prof, None), "auto")
    asyncio.run(rec.run(seconds=seconds))  # the first `seconds` of stream time
    return path


def make_sessions(bases: list[Path], folder: Path, wearers: int, days: int) -> list[Path]:
    from spinewatch.sessions.store import connect, set_meta

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for w in range(wearers):
        for d in range(days):
            key = hashlib.sha256(f"{w}/{d}".encode()).digest()
            base = bases[key[0] % len(bases)]
            hour = 6 + key[1] % 12
            p = folder / f"w{w:04d}-d{d:03d}.sqlite"
            shutil.copyfile(base, p)
            db = connect(p)
            set_meta(db, session_id=f"w{w:04d}d{d:03d}", wearer=f"w{w:04d}",
                     created_unix=T0 + d * DAY + hour * 3600.0)  # fmt: skip
            db.close()
            out.append(p)
    return out


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def timed(fn: Callable[..., T], *a: Any, **k: Any) -> tuple[float, T]:
    t = time.perf_counter()
    r = fn(*a, **k)
    return time.perf_counter() - t, r


def med(xs: list[float]) -> str:
    if len(xs) == 1:
        return f"{xs[0]:.2f}"
    return f"{statistics.median(xs):.2f} ({min(xs):.2f}–{max(xs):.2f})"


LOADED_OVER_20 = """SELECT wearer, strftime(date, '%G-W%V') AS week,
    sum(loaded_s) FILTER (WHERE flexion_max_deg > 20) / 60 AS loaded_min_over_20
FROM seconds GROUP BY ALL ORDER BY ALL"""


def run_size(
    bases: list[Path], work: Path, n: int, repeat: int, reanalyze_upto: int
) -> dict[str, Any]:
    from spinewatch.archive.dataset import archive_sessions
    from spinewatch.archive.fleet import fleet_rows, open_archive
    from spinewatch.archive.reanalyze import reanalyze

    wearers = max(1, n // 10)
    sessions = make_sessions(bases, work / f"n{n}" / "sessions", wearers, n // wearers)
    src_bytes = sum(p.stat().st_size for p in sessions)
    arc = work / f"n{n}" / "archive"
    t_arch = []
    reps = repeat if n <= 100 else 1
    for _ in range(reps):
        shutil.rmtree(arc, ignore_errors=True)
        dt, rep = timed(archive_sessions, sessions, str(arc), raw=True)
        t_arch.append(dt)
    raw_rows = rep.rows["raw"]
    t_again, again = timed(archive_sessions, sessions, str(arc), raw=True)
    assert again.added == [] and again.changed == []
    size = du(arc)
    per_table = {t.name.removeprefix("table="): du(t) for t in sorted(arc.glob("table=*"))}
    t_open, t_weekly, t_sec = [], [], []
    for _ in range(3):
        dt, con = timed(open_archive, str(arc))
        t_open.append(dt)
        dt, rows = timed(fleet_rows, con)
        t_weekly.append(dt)
        dt, _ = timed(fleet_rows, con, LOADED_OVER_20)
        t_sec.append(dt)
    out = {
        "n": n, "wearers": wearers, "days": n // wearers, "src_mb": src_bytes / 1e6,
        "raw_rows": raw_rows, "rows": rep.rows, "t_archive": t_arch, "t_again": t_again,
        "size_mb": size / 1e6, "per_table_mb": {k: v / 1e6 for k, v in per_table.items()},
        "t_open": t_open, "t_weekly": t_weekly, "t_seconds_query": t_sec, "weekly_rows": len(rows),
    }  # fmt: skip
    if n <= reanalyze_upto:
        dt, rr = timed(reanalyze, str(arc), workers=2)
        out["t_reanalyze"] = dt
        out["reanalyze_where"] = rr.where
    shutil.rmtree(work / f"n{n}" / "sessions")  # keep the disk use of the run small
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    ap.add_argument("--repeat", type=int, default=3, help="archive runs per size up to 100")
    ap.add_argument("--bases", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=20.0, help="stream seconds per base")
    ap.add_argument("--reanalyze-upto", type=int, default=100, help="largest size re-analysed")
    ap.add_argument("--report-from", metavar="LOG", help="write the fragment from a run's log")
    args = ap.parse_args()
    if args.report_from:  # a run cut short: its per-size result lines, as printed
        import ast

        lines = Path(args.report_from).read_text().splitlines()
        results = [ast.literal_eval(x) for x in lines if x.startswith("{'n'")]
        r0 = results[0]
        head: dict[str, Any] = next(
            (ast.literal_eval(x) for x in lines if x.startswith("{'bases'")),
            {"summary": {"duration_s": r0["rows"]["seconds"] / r0["n"],
                         "samples": r0["raw_rows"] // r0["n"]},
             "t_bases": float("nan"), "load0": (float("nan"),) * 3},
        )  # fmt: skip
        write_fragment("archive", report(results, args, head["summary"], head["t_bases"],
                                         head["load0"], os.getloadavg(),
                                         cut=len(results) < len(args.sizes)))  # fmt: skip
        return
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as tmp:
        work = Path(tmp)
        t = time.perf_counter()
        bases = [
            record_base(work / f"base{i}.sqlite", 100 + i, args.seconds) for i in range(args.bases)
        ]
        t_bases = time.perf_counter() - t
        from spinewatch.sessions import SessionFile

        with SessionFile(bases[0]) as sf:
            su = sf.summary()
            s = {"duration_s": su.duration_s, "samples": sum(su.samples.values())}
        print({"bases": args.bases, "summary": s, "t_bases": t_bases, "load0": load0}, flush=True)
        results = []
        for n in args.sizes:
            results.append(run_size(bases, work, n, args.repeat, args.reanalyze_upto))
            print(results[-1], flush=True)
            # Written after every size, so a run cut short still leaves its figures.
            write_fragment("archive", report(results, args, s, t_bases, load0, os.getloadavg()))


def marginal(a: dict[str, Any], b: dict[str, Any], key: str) -> float:
    """Re-analysis throughput between two sizes: extra work over extra time."""
    return float((b[key] - a[key]) / (b["t_reanalyze"] - a["t_reanalyze"]))


def report(
    results: list[dict[str, Any]],
    args: argparse.Namespace,
    s: dict[str, float],
    t_bases: float,
    load0: tuple[float, float, float],
    load1: tuple[float, float, float],
    cut: bool = False,
) -> str:
    cmd = "uv run python -m benchmarks.bench_archive " + " ".join(
        [
            "--sizes",
            *map(str, args.sizes),
            "--repeat",
            str(args.repeat),
            "--bases",
            str(args.bases),
            "--seconds",
            f"{args.seconds:g}",
            "--reanalyze-upto",
            str(args.reanalyze_upto),
        ]  # fmt: skip
    )
    L = [
        "## Team archive at scale (`archive`, `fleet`, `reanalyze`)",
        "",
        f"`{cmd}` — {machine()}. **The machine was shared**: load average "
        f"{load0[0]:.1f} at the start and {load1[0]:.1f} at the end on 2 cores (several other "
        "jobs ran), so absolute times are pessimistic and noisy; compare the ratios between "
        "sizes. Times in s; with several runs: median (min–max).",
        "",
        *(
            [
                f"**The run was cut short** (sizes {', '.join(str(r['n']) for r in results)} "
                "finished; the larger ones did not in the time available on the shared "
                "machine); the fragment was written from the run's log with `--report-from`.",
                "",
            ]
            if cut
            else []
        ),
        f"Sessions: copies of {args.bases} simulated base sessions (lifting, "
        f"{s['duration_s']:.0f} s of stream time, 2 sensors × 200 Hz, "
        f"{s['samples']} raw samples each; recording them took {t_bases:.0f} s) with "
        "their own session id, wearer (wearers × 10 consecutive days) and creation time "
        "(benchmarks/bench_archive.py explains the generation). Archived with `--raw`; "
        "`reanalyze` (the batch estimate of each session, as `analyze`, with alerts and reps; "
        "the raw samples read from the archive) ran on a Dask LocalCluster with 2 worker "
        f"processes up to {args.reanalyze_upto} sessions; its time includes starting the "
        "cluster and the workers' imports (a fixed cost), so the per-session cost is best read "
        "from the growth between sizes. Tasks are independent sessions, so its cost grows "
        "linearly with the samples (docs/scale.md). Rows at the largest size: "
        f"{results[-1]['rows']} (short bases: few reps and alerts).",
        "",
        "| sessions (wearers × days) | source files MB | archive s | sessions/s | raw samples/s "
        "| re-run (nothing new) s | archive MB (raw MB) | open views s | weekly query s "
        "| seconds-table query s | reanalyze s | reanalyze sessions/s | reanalyze samples/s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ta = statistics.median(r["t_archive"])
        tr = r.get("t_reanalyze")
        L.append(
            f"| {r['n']} ({r['wearers']} × {r['days']}) | {r['src_mb']:.0f} | {med(r['t_archive'])} "
            f"| {r['n'] / ta:.1f} | {r['raw_rows'] / ta:,.0f} | {r['t_again']:.2f} "
            f"| {r['size_mb']:.1f} ({r['per_table_mb'].get('raw', 0):.1f}) | {med(r['t_open'])} "
            f"| {med(r['t_weekly'])} | {med(r['t_seconds_query'])} "
            + (
                f"| {tr:.0f} | {r['n'] / tr:.2f} | {r['raw_rows'] / tr:,.0f} |"
                if tr
                else "| – | – | – |"
            )
        )
    for a, b in zip(results, results[1:], strict=False):
        k = b["n"] / a["n"]

        def g(key: str, a: dict[str, Any] = a, b: dict[str, Any] = b) -> str:
            return f"{statistics.median(b[key]) / statistics.median(a[key]):.1f}×"

        L += [
            "",
            f"Growth {a['n']} → {b['n']} sessions ({k:.0f}× the data): archive time {g('t_archive')}, "
            f"archive size {b['size_mb'] / a['size_mb']:.1f}×, opening the views {g('t_open')}, "
            f"weekly query {g('t_weekly')}, seconds-table query {g('t_seconds_query')}"
            + (
                f", reanalyze {b['t_reanalyze'] / a['t_reanalyze']:.1f}× "
                + (
                    f"(marginal, without the fixed cluster start: {marginal(a, b, 'n'):.2f} "
                    f"sessions/s, {marginal(a, b, 'raw_rows'):,.0f} raw samples/s)."
                    if b["t_reanalyze"] > a["t_reanalyze"]
                    else "(the cluster's start-up, which varies with the machine's load, "
                    "dominates at these sizes)."
                )
                if "t_reanalyze" in a and "t_reanalyze" in b
                else "."
            ),
        ]
    per = results[-1]["per_table_mb"]
    L += [
        "",
        "Archive size by table at the largest size (MB): "
        + ", ".join(f"{t} {v:.1f}" for t, v in sorted(per.items()))
        + ". The extrapolation to 10,000 wearers × 250 days is in docs/scale.md.",
    ]
    return "\n".join(L)


if __name__ == "__main__":
    main()
