"""Live path speed: :class:`~posture.live.LivePipeline` on 20 ms blocks (issue 13 item 6).

Writes docs/benchmarks/live.md. Run:

    uv run python -m benchmarks.bench_live            # 10 simulated minutes, 3 runs
    uv run python -m benchmarks.bench_live --quick    # 2 minutes, 3 runs
    uv run python -m benchmarks.bench_live --profile  # cProfile of one run, top 25

The input is a simulated lifting session (2 sensors × 200 Hz, calibrated wearer, alerts and
reps on) cut into the 20 ms blocks a live BLE bridge delivers, interleaved lumbar/thoracic as
they arrive. Speed = stream time / wall time of pushing every block and the final flush.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from benchmarks.collect import machine, write_fragment
from posture.alignment import ClockMap
from posture.engine import EngineSettings
from posture.live import LivePipeline
from posture.records import ROLES, ImuBlock
from sim.wearer import SimConfig, calibrated_profile, simulate
from spinewatch.events import thresholds_for


def blocks_of(raw: dict[str, ImuBlock], chunk_s: float) -> list[ImuBlock]:
    """The recording as 20 ms blocks per role, in arrival order."""
    t0 = min(float(b.t[0]) for b in raw.values())
    t1 = max(float(b.t[-1]) for b in raw.values())
    edges = np.arange(t0 + chunk_s, t1 + chunk_s + 1e-9, chunk_s)
    cuts = {r: np.searchsorted(b.t, edges, side="left") for r, b in raw.items()}
    out: list[ImuBlock] = []
    prev = dict.fromkeys(raw, 0)
    for k in range(len(edges)):
        for r in ROLES:
            i1 = int(cuts[r][k])
            if i1 > prev[r]:
                out.append(raw[r].take(slice(prev[r], i1)))
                prev[r] = i1
    return out


def setup(minutes: float) -> tuple[list[ImuBlock], float, object]:
    cfg = SimConfig(seed=5)
    prof = calibrated_profile(cfg)
    raw = simulate("lifting-session", cfg, duration_s=minutes * 60).raw
    span = max(float(b.t[-1]) for b in raw.values()) - min(float(b.t[0]) for b in raw.values())
    return blocks_of(raw, 0.02), span, prof


def run_once(blocks: list[ImuBlock], prof: object) -> tuple[float, int]:
    es = EngineSettings(lumbar_rate_hz=200, thoracic_rate_hz=200, clock=ClockMap(0.0, 0.0))
    pipe = LivePipeline(prof.spine_model, thresholds_for(prof, None), None, es)  # type: ignore[attr-defined,arg-type]
    n = 0
    w0 = time.perf_counter()
    for b in blocks:
        n += len(pipe.push(b).angles)
    n += len(pipe.flush().angles)
    return time.perf_counter() - w0, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--minutes", type=float)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    minutes = args.minutes or (2.0 if args.quick else 10.0)
    blocks, span, prof = setup(minutes)
    if args.profile:
        import cProfile
        import pstats

        pr = cProfile.Profile()
        pr.enable()
        run_once(blocks, prof)
        pr.disable()
        pstats.Stats(pr).sort_stats("tottime").print_stats(30)
        return
    walls, cpus = [], []
    for _ in range(args.runs):
        c0 = time.process_time()
        wall, n = run_once(blocks, prof)
        cpus.append(time.process_time() - c0)
        walls.append(wall)
        print(f"{span / wall:.0f}× real time ({wall:.2f} s wall, {n} angle samples)", flush=True)
    x = np.array([span / w for w in walls])
    xc = np.array([span / c for c in cpus])
    cmd = "uv run python -m benchmarks.bench_live" + (" --quick" if args.quick else "")
    lines = [
        "## Live path speed on 20 ms blocks (issue 13)",
        "",
        f"Command: `{cmd}` — machine: {machine()}.",
        "",
        f"`LivePipeline` (fusion, spine angles, load context, alerts, reps) fed a {minutes:g}-minute",
        f"simulated lifting session (2 sensors × 200 Hz) as {len(blocks)} blocks of 20 ms, as a",
        "live bridge delivers them. Speed = stream time / time to push all blocks and flush.",
        "",
        f"| measure | median (min–max of {args.runs} runs) | target |",
        "| --- | --- | --- |",
        f"| speed, wall time | {np.median(x):.0f}× ({x.min():.0f}–{x.max():.0f}×) real time | ≥ 100× |",
        f"| speed, process CPU time | {np.median(xc):.0f}× ({xc.min():.0f}–{xc.max():.0f}×) real time | – |",
        f"| per block (wall) | {np.median(walls) / len(blocks) * 1e6:.0f} µs | – |",
        "",
        f"Load average at the end: {os.getloadavg()[0]:.1f} on 2 cores. Measured on a shared machine",
        "with other jobs running (wall time then mostly measures waiting); the CPU-time figure is",
        "less affected by them than the wall-time one.",
    ]
    write_fragment("live", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
