"""Live path speed: :class:`~posture.live.LivePipeline` on 20 ms blocks (issue 13 item 6).

Writes docs/benchmarks/live.md. Run:

    uv run python -m benchmarks.bench_live            # 10 simulated minutes, 3 runs
    uv run python -m benchmarks.bench_live --quick    # 2 minutes, 3 runs
    uv run python -m benchmarks.bench_live --profile  # cProfile of one run, top 25
    uv run python -m benchmarks.bench_live --ref REV  # also against REV, runs alternating

The input is a simulated lifting session (2 sensors × 200 Hz, calibrated wearer, alerts and
reps on) cut into the 20 ms blocks a live BLE bridge delivers, interleaved lumbar/thoracic as
they arrive. Speed = stream time / wall time of pushing every block and the final flush. The
same blocks also go through the engine alone (:class:`~posture.engine.PostureEngine`) and
through the two VQF filters alone (``vqf.VQF.updateBatch``), to show where the time goes.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np

from benchmarks.collect import machine, write_fragment
from calibration.profile import CalibrationProfile
from posture.alignment import ClockMap
from posture.engine import EngineSettings, PostureEngine
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


def recording(minutes: float) -> tuple[dict[str, ImuBlock], float, CalibrationProfile]:
    """The simulated session (raw blocks per role), its span (s) and the wearer's profile."""
    cfg = SimConfig(seed=5)
    prof = calibrated_profile(cfg)
    raw = simulate("lifting-session", cfg, duration_s=minutes * 60).raw
    span = max(float(b.t[-1]) for b in raw.values()) - min(float(b.t[0]) for b in raw.values())
    return raw, span, prof


def setup(minutes: float) -> tuple[list[ImuBlock], float, CalibrationProfile]:
    raw, span, prof = recording(minutes)
    return blocks_of(raw, 0.02), span, prof


SETTINGS = EngineSettings(lumbar_rate_hz=200, thoracic_rate_hz=200, clock=ClockMap(0.0, 0.0))


def run_once(blocks: list[ImuBlock], prof: CalibrationProfile) -> int:
    """The live pipeline over every block; returns the number of angle samples."""
    pipe = LivePipeline(prof.spine_model, thresholds_for(prof, None), None, SETTINGS)
    n = 0
    for b in blocks:
        n += len(pipe.push(b).angles)
    return n + len(pipe.flush().angles)


def engine_once(blocks: list[ImuBlock], prof: CalibrationProfile) -> int:
    """The posture engine alone (fusion + spine angles) over every block."""
    eng = PostureEngine(prof.spine_model, SETTINGS)
    n = sum(len(eng.push(b)) for b in blocks)
    return n + len(eng.flush())


def vqf_once(blocks: list[ImuBlock], prof: CalibrationProfile) -> int:
    """The two VQF filters alone, one ``updateBatch`` call per block (what fusion must cost)."""
    import vqf

    filters = {r: vqf.VQF(1.0 / 200.0) for r in ROLES}
    for b in blocks:
        filters[b.sensor].updateBatch(np.ascontiguousarray(b.gyr), np.ascontiguousarray(b.acc))
    return 0


Runner = Callable[[list[ImuBlock], CalibrationProfile], int]


def timed(
    fns: list[Runner], blocks: list[ImuBlock], prof: CalibrationProfile, runs: int
) -> tuple[list[tuple[np.ndarray, np.ndarray]], int]:
    """Wall and process-CPU seconds of ``runs`` runs of each of ``fns``, and the first one's
    sample count.

    Each function first runs once on a short piece (not timed: first-call costs such as lazy
    imports are no part of streaming), then the runs go round-robin, one of each per round,
    so a stretch of slower host (this machine's speed drifts by a quarter over seconds)
    falls on all of them alike instead of on one measure's three consecutive runs."""
    for fn in fns:
        fn(blocks[:500], prof)
    walls: list[list[float]] = [[] for _ in fns]
    cpus: list[list[float]] = [[] for _ in fns]
    n = 0
    for _ in range(runs):
        for j, fn in enumerate(fns):
            w0, c0 = time.perf_counter(), time.process_time()
            m = fn(blocks, prof)
            cpus[j].append(time.process_time() - c0)
            walls[j].append(time.perf_counter() - w0)
            n = m if j == 0 else n
    return [(np.array(w), np.array(c)) for w, c in zip(walls, cpus, strict=True)], n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--minutes", type=float)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--note", default="", help="a sentence about the machine's state")
    ap.add_argument("--ref", help="also compare with this git revision, runs alternating")
    ap.add_argument("--rounds", type=int, default=5, help="pairs of runs with --ref")
    args = ap.parse_args()
    minutes = args.minutes or (2.0 if args.quick else 10.0)
    raw, span, prof = recording(minutes)
    blocks = blocks_of(raw, 0.02)
    if args.profile:
        import cProfile
        import pstats

        pr = cProfile.Profile()
        pr.enable()
        run_once(blocks, prof)
        pr.disable()
        pstats.Stats(pr).sort_stats("tottime").print_stats(30)
        return
    (live, eng, vq), n = timed([run_once, engine_once, vqf_once], blocks, prof, args.runs)
    print(f"live: {span / np.median(live[0]):.0f}× real time (wall), {n} angle samples", flush=True)
    cmd = "uv run python -m benchmarks.bench_live" + (" --quick" if args.quick else "")
    cmd += f" --ref {args.ref}" if args.ref else ""
    lines = _report(
        cmd,
        minutes,
        len(blocks),
        span,
        args.runs,
        live,
        eng,
        vq,
        args.note,
    )
    if args.ref:
        from benchmarks.live_ab import compare

        lines += compare(args.ref, raw, prof, span, args.rounds)
    write_fragment("live", "\n".join(lines))
    print("\n".join(lines))


def _report(
    cmd: str,
    minutes: float,
    n_blocks: int,
    span: float,
    runs: int,
    live: tuple[np.ndarray, np.ndarray],
    engine: tuple[np.ndarray, np.ndarray],
    vqf_: tuple[np.ndarray, np.ndarray],
    note: str,
) -> list[str]:
    def speed(secs: np.ndarray) -> str:
        x = span / secs
        return f"{np.median(x):.0f}× ({x.min():.0f}–{x.max():.0f}×)"

    def per_block(secs: np.ndarray) -> str:
        return f"{np.median(secs) / n_blocks * 1e6:.0f} µs"

    return [
        "## Live path speed on 20 ms blocks (issue 13)",
        "",
        f"Command: `{cmd}` — machine: {machine()}.",
        "",
        f"`LivePipeline` (fusion, spine angles, load context, alerts, reps) fed a {minutes:g}-minute",
        f"simulated lifting session (2 sensors × 200 Hz) as {n_blocks} blocks of 20 ms, as a",
        "live bridge delivers them. Speed = stream time / time to push all blocks and flush;",
        "the engine alone and the two VQF filters alone on the same blocks show where it goes.",
        "Each measure first runs once untimed on a short piece; then the runs go round-robin",
        "(live, engine, VQF; again), so a slower stretch of the host falls on all of them alike.",
        "",
        f"| measure | median (min–max of {runs} runs), wall | process CPU | per block (CPU) | target |",
        "| --- | --- | --- | --- | --- |",
        f"| live pipeline | {speed(live[0])} real time | {speed(live[1])} | {per_block(live[1])} | ≥ 100× |",
        f"| engine alone | {speed(engine[0])} | {speed(engine[1])} | {per_block(engine[1])} | – |",
        f"| VQF alone | {speed(vqf_[0])} | {speed(vqf_[1])} | {per_block(vqf_[1])} | – |",
        "",
        f"Load average at the end: {os.getloadavg()[0]:.1f} on 2 cores. {note}".rstrip(),
        "Wall time on a busy machine mostly measures waiting; the CPU-time figures are less",
        "affected by other jobs than the wall-time ones.",
    ]


if __name__ == "__main__":
    main()
