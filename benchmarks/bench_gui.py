"""GUI frame rate, CPU load and end-to-end alert latency, offscreen (issue 6).

Writes docs/benchmarks/gui.md. Run:

    uv run python -m benchmarks.bench_gui            # 20 s real time + 3 seeds of alerts
    uv run python -m benchmarks.bench_gui --quick    # 8 s + 1 seed

Both parts stream a simulated wearer (2 sensors × 200 Hz, 20 ms notifications) in real time
through the full main window (30 s graph window, 60 Hz repaint timer, 100 Hz source poll).

* **Frames and CPU**: the source's clock jumps 30 s ahead at the start so the graphs are full
  from the first frame; after the window has caught up with that burst and a 2 s warm-up,
  frames and CPU are counted over the run. A frame is a paint event of the graph view, what
  a user sees; fps = (paints - 1) / (time of the last paint - time of the first), so no
  partial frame period at either end of the run skews it. CPU is the process time of the
  whole process (all threads: window, live pipeline, simulated sensors) / wall time.
* **Alert latency**: sample in → banner painted. For each alert under load, the sample that
  raised it (``alert_s``) became available from the source at a known wall time (the source
  paces 20 ms chunks to its clock); the banner records the wall time of its first paint
  showing the alert. Between alerts the source's clock skips ahead to 3 s before the next
  one, so many alerts are measured in little time. A skip hands the window tens of seconds of
  data at once, which no live sensor does; the source's clock is therefore **held** until the
  window has processed that burst, and only then runs on in real time for the last 3 s. (The
  first version let the clock run on while the window was still busy with the burst, so on a
  loaded machine the alert's sample was "available" before the window could even read it:
  that, not the window, gave the p95 of 0.4–0.7 s and maxima over 1 s reported in issue 13.)
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
import PySide6  # noqa: E402
from PySide6.QtCore import QEvent, QObject  # noqa: E402

from benchmarks.collect import machine, write_fragment  # noqa: E402
from gui.app import qt_app, run_in_qt, thresholds_for  # noqa: E402
from gui.controller import LiveController  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402
from posture.alerts import AlertEngine, LoadContext, LoadSettings  # noqa: E402
from posture.engine import analyze  # noqa: E402
from posture.live import LivePipeline  # noqa: E402
from posture.rep_review import FirstRepReview  # noqa: E402
from sim.source import SimulatedSource  # noqa: E402
from sim.wearer import SimConfig, calibrated_profile, simulate  # noqa: E402

CHUNK_S = 0.02


class JumpClock:
    """time.monotonic() plus an offset the benchmark moves forward; can be held still."""

    def __init__(self) -> None:
        self.offset = 0.0
        self._held: float | None = None

    def __call__(self) -> float:
        return self._held if self._held is not None else time.monotonic() + self.offset

    def hold(self) -> None:
        self._held = self()

    def release(self) -> None:
        """Run on in real time from the held reading."""
        if self._held is not None:
            self.offset = self._held - time.monotonic()
            self._held = None


async def catch_up(
    win: MainWindow, clock: JumpClock, src: SimulatedSource, timeout: float
) -> float:
    """Hold the source's clock until the window has processed everything up to it; returns
    the wall time that took, s."""
    clock.hold()
    w0 = time.monotonic()
    # The poll reads and processes in one go, so once the source has handed out every chunk
    # up to its (held) time, the window has processed it too.
    while time.monotonic() - w0 < timeout and not src.caught_up():
        await asyncio.sleep(0.01)
    clock.release()
    return time.monotonic() - w0


class PaintCounter(QObject):
    """Wall times (time.monotonic) of the paint events of a widget: the frames a user sees."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802 (Qt name)
        if ev.type() == QEvent.Type.Paint:
            self.times.append(time.monotonic())
        return False


def _window(seed: int, seconds: float, clock: JumpClock) -> tuple[SimulatedSource, MainWindow]:
    qt_app()
    cfg = SimConfig(seed=seed)
    prof = calibrated_profile(cfg)
    src = SimulatedSource("lifting-session", seconds, cfg, speed=1.0, clock=clock)
    th = thresholds_for(prof)
    ctl = LiveController(src, LivePipeline.for_host_clock(prof, th, "auto", src.rates_hz))
    win = MainWindow(ctl, th, window_s=30.0, fps=60.0)
    win.show()
    return src, win


def frames_and_cpu(seconds: float) -> dict[str, float]:
    clock = JumpClock()
    src, win = _window(7, seconds + 40.0, clock)
    counter = PaintCounter()
    win.graphs.viewport().installEventFilter(counter)

    async def main() -> dict[str, float]:
        await win.controller.start()
        clock.offset = 30.0  # the graphs' 30 s window is full from the start
        await catch_up(win, clock, src, 60.0)
        await asyncio.sleep(2.0)
        f0, p0, s0 = win.frames, len(counter.times), win.graphs.scrolls
        c0, w0 = time.process_time(), time.monotonic()
        n0 = win.controller.buffer.written
        await asyncio.sleep(seconds)
        wall = time.monotonic() - w0
        cpu = time.process_time() - c0  # all threads of the process
        paints = np.array(counter.times[p0:])
        gaps = np.diff(paints) * 1000
        out = {
            "wall_s": wall,
            # Painted frames of the graphs, first to last (no partial frame at either end).
            "fps": (len(paints) - 1) / (paints[-1] - paints[0]),
            "ticks": (win.frames - f0) / wall,
            "scrolls": (win.graphs.scrolls - s0) / wall,
            "gap_med": float(np.median(gaps)),
            "gap_p99": float(np.percentile(gaps, 99)),
            "gap_max": float(gaps.max()),
            "cpu": cpu / wall,
            "cpu_per_frame_ms": 1000 * cpu / len(paints),
            "angle_rate": (win.controller.buffer.written - n0) / wall,
            "window_pts": float(len(win.graphs.shown["flexion"][1])),
        }
        await win.controller.stop()
        win.close()
        return out

    return run_in_qt(main)


def alert_latencies(seed: int, minutes: float) -> tuple[list[float], int]:
    """Wall time from each alert's raising sample being available to the banner's paint, s,
    and the number of alerts expected (batch analysis of the same session)."""
    cfg = SimConfig(seed=seed)
    prof = calibrated_profile(cfg)
    sess = simulate("lifting-session", cfg, duration_s=minutes * 60)
    ang, th = analyze(sess.raw, prof.spine_model), thresholds_for(prof)
    # What the window raises: alerts in the moment and reviews of a set's first rep.
    ctx = LoadContext(LoadSettings())
    eng = AlertEngine(th, ctx)
    _, ended = eng.process(ang)
    late = FirstRepReview(th, ctx).push(ang)
    expected = sorted(ended + eng.flush(float(ang.t[-1])) + late, key=lambda al: al.alert_s)
    clock = JumpClock()
    src, win = _window(seed, minutes * 60, clock)
    out: list[float] = []

    async def main() -> None:
        await win.controller.start()
        wall0 = clock()  # the source's wall0 (taken in start with offset 0)
        for al in expected:
            # Skip ahead to 3 s before the alert, let the window digest the skipped data with
            # the clock held, then run in real time until it is shown.
            target_lead = (al.alert_s - 3.1) - src.t0
            current = time.monotonic() + clock.offset - wall0
            if target_lead > current:
                clock.offset += target_lead - current
                await catch_up(win, clock, src, 60.0)
            n_before = len(win.controller.alerts)
            t_limit = time.monotonic() + 6.0
            while len(win.controller.alerts) == n_before and time.monotonic() < t_limit:
                await asyncio.sleep(0.005)
            if len(win.controller.alerts) == n_before:
                continue
            got = win.controller.alerts[-1]
            await asyncio.sleep(0.05)  # let the paint happen if it was deferred
            k = math.floor((got.alert_s - src.t0) / CHUNK_S + 1e-9) + 1
            edge = src.t0 + k * CHUNK_S  # first chunk edge after the sample
            avail = wall0 + (edge - src.t0) - clock.offset  # in time.monotonic() terms
            if win.banner.first_paint_s >= win.controller.last_raise_wall:  # painted for it
                out.append(win.banner.first_paint_s - avail)
        await win.controller.stop()
        win.close()

    run_in_qt(main)
    return out, len(expected)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    seconds = 8.0 if args.quick else 20.0
    seeds = [7] if args.quick else [1, 3, 7]
    minutes = 2.0
    fc = frames_and_cpu(seconds)
    print(fc, flush=True)
    lat: list[float] = []
    n_expected = 0
    for s in seeds:
        got, n = alert_latencies(s, minutes)
        print("seed", s, "alerts", len(got), "of", n, flush=True)
        lat += got
        n_expected += n
    ms = np.array(lat) * 1000
    cmd = "uv run python -m benchmarks.bench_gui" + (" --quick" if args.quick else "")

    def ok(flag: bool) -> str:
        return "yes" if flag else "**no**"

    lines = [
        "## GUI (issue 6)",
        "",
        f"Command: `{cmd}` — machine: {machine()}; Qt offscreen platform (software",
        f"raster), PySide6 {PySide6.__version__}, pyqtgraph {pg.__version__}. Simulated wearer",
        "streamed in real time (2 sensors × 200 Hz, 20 ms notifications) through the whole main window: 30 s graph",
        "window (full), 60 Hz repaint timer, 100 Hz source poll, live pipeline and simulated",
        "sensors included in the CPU figure. A frame is a paint of the graph view (the strip",
        "charts repaint at least their newest columns every tick; the chart scrolls in whole",
        "pixels, ~23 px/s for a 30-s window). Alert latency = wall time from the raising sample being available",
        "from the source to the first paint of the red banner (includes waiting for the next",
        "poll, the engine, the alert engine and the paint into the window; offscreen there is",
        "no compositor, so a real screen adds up to one display refresh, ~17 ms at 60 Hz).",
        "",
        "| measure | value | target | met |",
        "| --- | --- | --- | --- |",
        f"| frames painted (paint events of the graph view, first to last) | {fc['fps']:.1f} fps over {fc['wall_s']:.0f} s | ≥ 60 fps (to 0.1) | {ok(round(fc['fps'], 1) >= 60.0)} |",
        f"| time between painted frames, median / p99 / max | {fc['gap_med']:.1f} / {fc['gap_p99']:.1f} / {fc['gap_max']:.1f} ms | — | |",
        f"| repaint ticks that drew (the rest: paused or late) / of them moving the charts ≥ 1 px | {fc['ticks']:.1f} / {fc['scrolls']:.1f} per s | — | |",
        f"| CPU of the whole process, process time / wall time | {100 * fc['cpu']:.1f} % of one core ({fc['cpu_per_frame_ms']:.2f} ms per painted frame) | ≤ 25 % | {ok(fc['cpu'] <= 0.25)} |",
        f"| angles processed | {fc['angle_rate']:.0f} /s, {fc['window_pts']:.0f} points per curve | 200 /s | |",
        f"| alert latency, median / p95 / max ({len(ms)} of {n_expected} alerts shown, seeds {', '.join(map(str, seeds))}, {minutes:g}-min sessions) | {np.median(ms):.1f} / {np.percentile(ms, 95):.1f} / {ms.max():.1f} ms | p95 ≤ 100 ms, max ≤ 250 ms | {ok(np.percentile(ms, 95) <= 100 and ms.max() <= 250)} |",
        "",
        f"Load average of the machine at the end of the run: {os.getloadavg()[0]:.1f} (2 cores).",
        "When it is well above 1, other jobs share the cores: fps drop, latency grows with the",
        "time the window waits for a core, and CPU % is inflated by cache and scheduler",
        "contention; treat such figures as upper bounds for the window's own cost.",
    ]
    write_fragment("gui", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
