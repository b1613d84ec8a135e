"""``spinewatch demo``: a simulated wearer calibrates and lifts, end to end."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "demo",
        help="simulated wearer: calibration and a short lifting session, end to end",
        description="A simulated wearer (seeded, with ground truth) records a calibration "
        "(standing + cat-cow) and a short lifting session; spinewatch calibrates, analyses, "
        "detects alerts and reps, and prints a summary with the error against the truth.",
    )
    p.add_argument("--seed", type=int, default=7, help="simulated wearer (default 7)")
    p.add_argument("--minutes", type=float, default=2.0, help="session length (default 2)")
    p.add_argument("--rate", type=float, default=200.0, help="sensor rate, Hz (default 200)")
    p.add_argument("-o", "--out", help="folder to keep the demo's files in (raw, profile, angles)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from spinewatch.demo import run_demo

    return run_demo(seed=args.seed, minutes=args.minutes, rate_hz=args.rate, out_dir=args.out)
