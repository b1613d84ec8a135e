"""``spinewatch record [--simulate] [--seconds N] [--profile P] -o SESSION``."""

from __future__ import annotations

import argparse

from spinewatch import argtypes as T


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "record",
        help="record a session (raw samples, angles, alerts, reps) to a session file",
        description="Stream both sensors through the posture engine and record everything into "
        "one crash-safe session file (SQLite). Stops after --seconds of data or on Ctrl-C "
        "(the session is then closed cleanly and marked complete). An existing session is "
        "never replaced: the file is created exclusively, so of two recordings started on "
        "one name exactly one wins. Exit codes: 0 done; 2 bad option, existing session or "
        "sensor problem (one line). Ctrl-C or SIGTERM end the recording cleanly (exit 0).",
    )
    p.add_argument(
        "--simulate",
        action="store_true",
        help="record a simulated wearer (default: the paired sensors)",
    )
    p.add_argument(
        "--ble",
        action="store_true",
        help="with --simulate: stream through simulated Bluetooth sensors (real time)",
    )
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        type=T.fault_spec,
        help="link fault of simulated Bluetooth sensors (see 'spinewatch stream --help')",
    )
    p.add_argument(
        "--seconds",
        type=T.positive_seconds,
        help="stop after this much data, s, > 0 (default: until Ctrl-C; 600 s with --simulate)",
    )
    p.add_argument("--profile", help="calibration profile JSON (stored in the session)")
    p.add_argument(
        "-o",
        "--output",
        help="session name (in the sessions folder) or file path (default: date and time)",
    )
    p.add_argument(
        "--speed", type=T.speed, default=1.0, help="simulation speed, 0–1000 (0 = flat out)"
    )
    p.add_argument("--seed", type=T.seed, default=7, help="simulated wearer")
    p.add_argument("--script", default="lifting-session", help="simulator script")
    p.add_argument("--load", choices=("auto", "always", "never"), default="auto")
    p.add_argument(
        "--thresholds",
        type=T.threshold_spec,
        help="flexion=DEG,lateral_flexion=DEG,rotation=DEG (each 0–90)",
    )
    p.add_argument("--quiet", action="store_true", help="do not print alerts as they happen")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import asyncio
    import signal
    import sys
    import time

    import numpy as np

    from calibration import CalibrationProfile
    from posture.live import LiveUpdate
    from spinewatch.console import LiveLines
    from spinewatch.events import thresholds_for
    from spinewatch.progress import progress
    from spinewatch.sessions.recorder import Recorder, RecordResult
    from spinewatch.sessions.store import resolve
    from spinewatch.sources import open_source

    seconds = args.seconds if args.seconds or not args.simulate else 600.0
    name = args.output or time.strftime("%Y%m%d-%H%M%S")
    path = resolve(name, must_exist=False)
    source = open_source(
        args.simulate,
        seconds=seconds,
        seed=args.seed,
        speed=args.speed,
        script=args.script,
        ble=args.ble,
        faults=args.fault,
    )
    if args.profile:
        profile = CalibrationProfile.load(args.profile)
    elif args.simulate:
        from sim.wearer import calibrated_profile

        profile = calibrated_profile(args.seed)
    else:
        profile = None
        print(
            "no --profile: raw data and uncalibrated angles are recorded; re-analyse later "
            "with 'spinewatch replay SESSION --profile PROFILE.json'",
            file=sys.stderr,
        )
    rec = Recorder(
        source,
        path,
        profile,
        thresholds_for(profile, args.thresholds),
        args.load,
        meta={"source": "simulated" if args.simulate else "ble", "seed": args.seed},
    )

    streaming = [False]
    lines = LiveLines(origin=0.0, width=10, ended=False, reps=False)

    def show(up: LiveUpdate) -> None:
        if np.isfinite(rec.t1):
            bar(rec.t1 - rec.t0)
        if not streaming[0] and rec.t1 == rec.t1:  # first data (t1 is NaN before)
            streaming[0] = True
            print(
                f"streaming: stream time {rec.t1:.3f} s at host monotonic {time.monotonic():.3f} s",
                flush=True,
            )
        if args.quiet:
            return
        for line in lines(up):
            print(line, flush=True)

    def on_line() -> None:
        # Terminal controls: Enter starts/ends a set, any other text is saved as a note.
        line = sys.stdin.readline()
        if not line:
            asyncio.get_running_loop().remove_reader(sys.stdin.fileno())
        elif line.strip():
            rec.note(line.strip())
            print("note saved", flush=True)
        elif rec.pipeline is not None:
            if rec.pipeline.in_set:
                rec.end_set()
                print("set ended", flush=True)
            else:
                rec.start_set()
                print("set started", flush=True)

    async def main() -> RecordResult:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print(
            f"recording to {path} (host monotonic {time.monotonic():.3f} s); Ctrl-C to stop",
            flush=True,
        )
        if sys.stdin is not None and sys.stdin.isatty():
            loop.add_reader(sys.stdin.fileno(), on_line)
            print("Enter: start/end a set; type a note and Enter to save it", flush=True)
        return await rec.run(seconds, stop, show)

    # A bar only when recording flat out (--speed 0): at live pace the stream is the progress.
    flat_out = args.simulate and args.speed == 0 and not args.ble
    with progress("record", seconds or 0.0, quiet=args.quiet or not flat_out) as bar:
        res = asyncio.run(main())
    print(
        f"{res.status.value}: {res.t1 - res.t0:.1f} s, {res.blocks} blocks, "
        f"{res.alerts} alerts, {res.reps} reps -> {res.path}"
    )
    return 0
