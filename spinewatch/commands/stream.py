"""``spinewatch stream``: stream both sensors to the raw CSV format with live link statistics."""

from __future__ import annotations

import argparse

from spinewatch import argtypes as T
from spinewatch.fileio import OUTPUT_HELP, add_force_option


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "stream",
        help="stream both sensors to a raw CSV file, showing link statistics",
        description="Connect to the paired thoracic and lumbar sensors (or simulated ones) and "
        "write their samples, on host time, to the raw CSV format (docs/formats.md). Prints "
        "per-sensor rate, lost samples, jitter, clock drift and battery while streaming. "
        "The output path is checked before connecting; the file is written when streaming "
        "ends (--seconds, Ctrl-C or SIGTERM)." + OUTPUT_HELP,
    )
    p.add_argument("--simulate", action="store_true", help="simulated sensors over simulated BLE")
    p.add_argument(
        "--seconds", type=T.positive_seconds, default=None, help="stop after N s (default: Ctrl-C)"
    )
    p.add_argument("-o", "--output", required=True, help="raw CSV file to write")
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        type=T.fault_spec,
        help="link fault of the simulated sensors, repeatable: drop=0.05, burst=0.1, "
        "drift-ppm=50, disconnect-at=5, down-for=2, refuse, absent, garble=0.01, slow=1, "
        "interval-ms=7.5",
    )
    p.add_argument("--seed", type=T.seed, default=7, help="simulated wearer")
    p.add_argument("--script", default="lifting-session", help="simulator script")
    p.add_argument(
        "--every",
        type=T.float_in(0.1, 3600.0, "s"),
        default=2.0,
        help="statistics every N s, 0.1–3600 (default 2)",
    )
    add_force_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from spinewatch.fileio import atomic_output, check_output

    check_output(args.output, force=args.force)  # before connecting or streaming, not after
    import asyncio
    import contextlib

    from firmware_bridge.hub import link_report
    from posture.errors import SpinewatchError
    from posture.rawcsv import HOST_CLOCK_COMMENT, write_raw_csv
    from posture.records import ROLES, ImuBlock
    from spinewatch.sources import open_source, stop_on_signals

    seconds = args.seconds if args.seconds or not args.simulate else 30.0
    source = open_source(
        args.simulate,
        seconds=(seconds or 0) + 1.0,
        seed=args.seed,
        script=args.script,
        faults=args.fault,
        ble=True if args.simulate else None,
    )
    got: dict[str, list[ImuBlock]] = {}

    async def main() -> None:
        stop = stop_on_signals()
        clock = asyncio.get_running_loop().time  # time.monotonic, or simulated time in tests
        await source.start()
        t0 = clock()
        next_report = t0 + args.every
        try:
            while not stop.is_set() and not source.finished:
                if seconds and clock() - t0 >= seconds:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.05)
                for b in source.read():
                    if isinstance(b, ImuBlock):
                        got.setdefault(b.sensor, []).append(b)
                if clock() >= next_report:
                    next_report += args.every
                    print(f"-- {clock() - t0:5.1f} s\n{link_report(source.status())}")
        finally:
            for b in source.read():
                if isinstance(b, ImuBlock):
                    got.setdefault(b.sensor, []).append(b)
            await source.stop()

    asyncio.run(main())
    blocks = {r: ImuBlock.concat(got[r]) for r in ROLES if got.get(r)}
    if not blocks:
        raise SpinewatchError("no samples were received; nothing written")
    with atomic_output(args.output, force=args.force) as tmp:
        write_raw_csv(
            tmp, blocks, comments=["spinewatch stream (host time, s)", HOST_CLOCK_COMMENT]
        )
    status = source.status()
    print(f"final:\n{link_report(status)}")
    n = {r: len(b) for r, b in blocks.items()}
    print(f"wrote {args.output}: " + ", ".join(f"{r} {k} samples" for r, k in n.items()))
    return 0
