"""Session recording: crash safety (kill -9) and an 8-hour recording (issue 7).

Writes docs/benchmarks/sessions.md. Run:

    uv run python -m benchmarks.bench_sessions            # 20 kill trials, 8 hours
    uv run python -m benchmarks.bench_sessions --quick    # 5 kill trials, 1 hour

The long recording loops a 10-minute simulated lifting session (2 sensors × 200 Hz) with
shifted time stamps and sequence numbers, delivered flat out by a looping SampleSource, so
8 hours are never held in memory.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.collect import machine, write_fragment
from benchmarks.crashcheck import kill_trial
from firmware_bridge.api import Block, LinkState, LinkStatus
from posture.records import ROLES, ImuBlock
from sim.source import as_counts
from sim.wearer import SimConfig, calibrated_profile, simulate
from spinewatch.events import thresholds_for
from spinewatch.sessions import SessionFile
from spinewatch.sessions.recorder import Recorder
from spinewatch.sessions.report import write_report
from spinewatch.sessions.writer import SessionWriter


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def counts(raw: dict[str, ImuBlock]) -> dict[str, ImuBlock]:
    """As the sensors (and the simulated source) deliver them: int16 counts × scale."""
    return {r: as_counts(b) for r, b in raw.items()}


class LoopedSource:
    """A base recording repeated ``loops`` times back to back, ``burst_s`` per read."""

    def __init__(self, raw: dict[str, ImuBlock], loops: int, chunk_s: float, burst_s: float = 5.0):
        self.raw = raw
        self.loops = loops
        t0 = min(float(b.t[0]) for b in raw.values())
        t1 = max(float(b.t[-1]) for b in raw.values())
        self.period = t1 - t0 + 1.0 / raw["lumbar"].nominal_rate()
        edges = np.arange(t0 + chunk_s, t1 + chunk_s + 1e-9, chunk_s)
        self.cuts = {r: np.searchsorted(b.t, edges, side="left") for r, b in raw.items()}
        self.n_chunks = len(edges)
        self.per_read = max(1, int(round(burst_s / chunk_s)))
        self.k = 0  # global chunk counter
        self.received = dict.fromkeys(ROLES, 0)

    @property
    def rates_hz(self) -> dict[str, float]:
        return {r: b.nominal_rate() for r, b in self.raw.items()}

    @property
    def finished(self) -> bool:
        return self.k >= self.loops * self.n_chunks

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def signal(self, role: str, pattern: str = "alert") -> bool:
        return False

    def taps(self) -> list[tuple[str, float]]:
        return []

    def status(self) -> dict[str, LinkStatus]:
        return {r: LinkStatus(r, LinkState.STREAMING, received=self.received[r]) for r in ROLES}

    def read(self) -> list[Block]:
        out: list[Block] = []
        for _ in range(self.per_read):
            if self.finished:
                break
            loop, c = divmod(self.k, self.n_chunks)
            self.k += 1
            for r in ROLES:
                b, cuts = self.raw[r], self.cuts[r]
                i0 = int(cuts[c - 1]) if c else 0
                i1 = int(cuts[c])
                if i1 <= i0:
                    continue
                assert b.seq is not None
                out.append(
                    ImuBlock(
                        r,
                        b.t[i0:i1] + loop * self.period,
                        b.acc[i0:i1],
                        b.gyr[i0:i1],
                        None,
                        b.seq[i0:i1] + loop * len(b),
                    )
                )
                self.received[r] += i1 - i0
        return out


def long_recording(folder: Path, hours: float, chunk_s: float, base_min: float = 10.0) -> dict:
    """The full recorder (fusion, angles, alerts, reps, writer) on a looped session."""
    cfg = SimConfig(seed=5)
    prof = calibrated_profile(cfg)
    raw = counts(simulate("lifting-session", cfg, duration_s=base_min * 60).raw)
    loops = int(round(hours * 60 / base_min))
    src = LoopedSource(raw, loops, chunk_s)
    path = folder / f"long-{chunk_s}.sqlite"
    rec = Recorder(src, path, prof, thresholds_for(prof, None), "auto")
    rss: list[tuple[float, float]] = [(0.0, rss_mb())]
    mark = [src.period * loops / 8]

    def on_update(up: object) -> None:
        if np.isfinite(rec.t1) and rec.t1 - rec.t0 >= mark[0]:
            rss.append((rec.t1 - rec.t0, rss_mb()))
            mark[0] += src.period * loops / 8

    w0 = time.perf_counter()
    res = asyncio.run(rec.run(on_update=on_update, poll_s=0.0))
    wall = time.perf_counter() - w0
    rss.append((res.t1 - res.t0, rss_mb()))
    span = res.t1 - res.t0
    size = path.stat().st_size
    t = time.perf_counter()
    with SessionFile(path) as sf:
        s = sf.summary()
        t_summary = time.perf_counter() - t
        t = time.perf_counter()
        write_report(sf, folder / "long.html")
        t_report = time.perf_counter() - t
    return {
        "span_h": span / 3600,
        "wall": wall,
        "x_rt": span / wall,
        "rss": rss,
        "mb_per_h": size / 1e6 / (span / 3600),
        "size_mb": size / 1e6,
        "blocks": res.blocks,
        "alerts": s.alerts,
        "reps": s.reps,
        "backlog": rec.writer.max_backlog,
        "commits": rec.writer.commits,
        "t_summary": t_summary,
        "t_report": t_report,
        "chunk_s": chunk_s,
    }


def store_only(folder: Path, hours: float, chunk_s: float = 0.02) -> dict:
    """Raw + angle blocks through the writer alone, 20 ms blocks (live block size)."""
    from posture.live import LivePipeline

    cfg = SimConfig(seed=5)
    raw = counts(simulate("lifting-session", cfg, duration_s=600).raw)
    src = LoopedSource(raw, 1, chunk_s, burst_s=600)
    pipe = LivePipeline.for_host_clock(None, rates_hz=src.rates_hz)
    base = [(b, pipe.push(b)) for b in src.read() if isinstance(b, ImuBlock)]
    loops = int(round(hours * 6))
    w = SessionWriter(folder / "store.sqlite", {})
    from posture.records import AngleBlock

    r0 = rss_mb()
    peak = r0
    w0 = time.perf_counter()
    for k in range(loops):
        dt = k * src.period
        for b, up in base:
            assert b.seq is not None  # the looped source numbers every sample
            seq = b.seq + k * len(raw[b.sensor])
            w.block(ImuBlock(b.sensor, b.t + dt, b.acc, b.gyr, None, seq))
            if len(up.angles):
                a = up.angles
                w.angles(AngleBlock(a.t + dt, a.flexion, a.lateral_flexion, a.rotation,
                                    a.thoracic_inclination, a.lumbar_inclination, a.hip_angle,
                                    a.rotation_confidence, a.flags), up.under_load)  # fmt: skip
            # Flat out, the producer outruns SQLite; keep it at most ~20k items ahead so this
            # measures the writer's sustained rate with a bounded queue.
            while w._q.qsize() > 20_000:
                time.sleep(0.005)
        peak = max(peak, rss_mb())
    w.close()
    wall = time.perf_counter() - w0
    return {"wall": wall, "x_rt": loops * src.period / wall, "rss_growth": peak - r0,
            "mb_per_h": (folder / "store.sqlite").stat().st_size / 1e6 / (loops * src.period / 3600),
            "blocks": len(base) * loops, "backlog": w.max_backlog}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--trials", type=int)
    ap.add_argument("--hours", type=float)
    args = ap.parse_args()
    trials = args.trials or (5 if args.quick else 20)
    hours = args.hours or (1.0 if args.quick else 8.0)
    rng = random.Random(2026)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        kills = []
        for i in range(trials):
            tr = kill_trial(folder, rng.uniform(1.0, 8.0), name=f"kill{i}", seed=i)
            kills.append(tr)
            print(f"kill {i}: after {tr.killed_after_s:.2f} s lost {tr.lost_s:.3f} s", flush=True)
        so = store_only(folder, hours)
        print("store only", so, flush=True)
        full = long_recording(folder, hours, chunk_s=0.1)
        print("full", {k: v for k, v in full.items() if k != "rss"}, flush=True)
    lost = np.array([k.lost_s for k in kills])
    ok_open = sum(k.integrity == "ok" for k in kills)
    interrupted = sum(k.status.value == "interrupted" for k in kills)
    consistent = sum(k.consistent for k in kills)
    rss = full["rss"]
    growth_after_first = max(r for _, r in rss[1:]) - rss[1][1]
    growth_total = max(r for _, r in rss) - rss[0][1]
    cmd = "uv run python -m benchmarks.bench_sessions" + (" --quick" if args.quick else "")
    lines = [
        "## Sessions: crash safety and long recordings (issue 7)",
        "",
        f"Command: `{cmd}` — machine: {machine()}.",
        "",
        f"### kill -9 during recording ({trials} trials)",
        "",
        "Each trial runs `python -m spinewatch.cli record --simulate --speed 1` (real-time pace,",
        "20 ms blocks, writer commits every 0.25 s), sends SIGKILL after a random 1–8 s, then",
        "opens the file. Loss = stream time the real-time source had reached at the kill",
        "(extrapolated from the recorder's first-data line on the shared monotonic clock; an",
        "upper bound) − last stored sample time.",
        "",
        "| measure | value | target |",
        "| --- | --- | --- |",
        f"| files that open with `PRAGMA integrity_check` = ok | {ok_open}/{trials} | all |",
        f"| blocks unpack, sequence numbers contiguous | {consistent}/{trials} | all |",
        f"| marked `interrupted` on next open | {interrupted}/{trials} | all |",
        f"| data lost, median / max | {np.median(lost):.3f} / {lost.max():.3f} s | ≤ 1 s |",
        "",
        f"### {hours:g}-hour recording, 2 sensors × 200 Hz",
        "",
        f"Full recorder: a 10-minute simulated lifting session looped {int(round(hours * 6))}×",
        "with shifted time stamps and sequence numbers, delivered flat out in 0.1 s blocks",
        "through the complete live path (VQF fusion, spine angles, load context, alerts, reps)",
        "and the session writer (raw blocks, angles, alerts, reps, link statistics). A flat-out",
        "source is held back while more than 2000 items wait for the writer (a live source",
        "never gets near that).",
        "",
        "| measure | value | target |",
        "| --- | --- | --- |",
        f"| speed | {full['x_rt']:.0f}× real time ({full['wall']:.0f} s for {full['span_h']:.2f} h) | ≥ 50× |",
        f"| RSS growth after the first {full['span_h'] / 8 * 60:.0f} min / from the start | {growth_after_first:+.1f} / {growth_total:+.1f} MB | ≤ 50 MB |",
        f"| file size | {full['mb_per_h']:.0f} MB per hour ({full['size_mb']:.0f} MB in all) | – |",
        f"| writer backlog (max queued items at a commit) / commits per s | {full['backlog']} / {full['commits'] / full['wall']:.1f} | – / ≥ 2 |",
        f"| alerts / reps recorded | {full['alerts']} / {full['reps']} | – |",
        f"| `sessions show` summary of the file | {full['t_summary'] * 1000:.0f} ms | – |",
        f"| `report` of the file | {full['t_report']:.1f} s | – |",
        "",
        "RSS over the recording (stream hours: MB): "
        + ", ".join(f"{t / 3600:.1f} h: {r:.0f}" for t, r in rss)
        + ".",
        "",
        "Live block size (20 ms) for the storage side alone — raw blocks plus the angle blocks",
        f"of a precomputed live run, through the session writer, {hours:g} h (the producer is",
        "held at most 20 000 queued items ahead, so this is the writer's sustained rate):",
        f"{so['x_rt']:.0f}× real time, RSS growth {so['rss_growth']:+.1f} MB, "
        f"{so['mb_per_h']:.0f} MB per hour, max backlog {so['backlog']} items.",
        "",
        "Storage (schema 4, issue 13): raw samples as the sensors' int16 counts plus scales,",
        "delta-coded, byte-shuffled and zlib-compressed in one row per role and commit; the",
        "live angles losslessly the same way (float64 angles hardly compress: they are most of",
        "the file). Schema 3 stored float64 rows per block: 179 MB per hour.",
        "The simulated sensors deliver int16 counts like the real ones (±16 g, ±2000 °/s).",
        "",
        "Measured on a shared 2-core machine with several other jobs running (load average",
        "well above 2): speeds are lower than on a quiet machine; sizes and losses are not",
        "affected by load (losses are bounded by the 0.25 s commit interval).",
    ]
    write_fragment("sessions", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
