"""The main window shows what the live pipeline computes, alerts at once, and tracks links."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from PySide6.QtCore import Qt

from firmware_bridge.api import LinkState
from gui.app import thresholds_for
from gui.controller import COL, LiveController
from gui.main_window import MainWindow
from posture.live import LivePipeline
from posture.records import AngleBlock
from sim.source import SimulatedSource
from sim.wearer import SimConfig
from tests.gui.helpers import FakeClock, ListSink, profile, start
from tests.gui.test_graphs import curve_mask


@pytest.fixture
def coros():
    """Coroutines the window scheduled (haptic commands); closed if a test did not run them."""
    pending: list = []
    yield pending
    for c in pending:
        c.close()


def build(qtbot, source, coros, seed: int = 7, **kw) -> tuple[MainWindow, LiveController]:
    prof = profile(seed)
    th = thresholds_for(prof)
    # A frozen wall clock unless a test brings its own: what the window shows then depends on
    # the data only, not on how busy the machine is.
    clock = kw.pop("clock", lambda: 1000.0)

    ctl = LiveController(
        source,
        LivePipeline.for_host_clock(prof, th, "auto", source.rates_hz),
        poll_ms=None,
        runner=coros.append,
        clock=clock,
    )
    win = MainWindow(ctl, th, clock=clock, **kw)
    qtbot.addWidget(win)
    win.timer.stop()  # frames are drawn by hand
    win.show()
    return win, ctl


def fresh_pipeline(seed: int, source) -> LivePipeline:
    prof = profile(seed)
    return LivePipeline.for_host_clock(prof, thresholds_for(prof), "auto", source.rates_hz)


def test_graphs_show_the_pipelines_angles(qtbot, coros) -> None:
    src = SimulatedSource("lifting-session", 40.0, SimConfig(seed=7), speed=0, burst_s=0.5)
    win, ctl = build(qtbot, src, coros)
    ctl.sink = ListSink()
    start(src)
    assert ctl.toggle_recording("x.sqlite")
    while ctl.elapsed_s < 34.0:
        ctl.poll()
    win.draw_frame()
    # The same blocks through an independent pipeline give the curves' data.
    pipe = fresh_pipeline(7, src)
    ref = AngleBlock.concat([pipe.push(b).angles for b in ctl.sink.blocks])
    assert len(ref) > 30 * 200
    keep = ref.t >= ref.t[-1] - win.graphs.window_s - 0.1
    for plane in ("flexion", "lateral_flexion", "rotation"):
        x, y = win.graphs.shown[plane]
        n = len(y)
        np.testing.assert_array_equal(y, getattr(ref, plane)[-n:])
        np.testing.assert_allclose(x - x[-1], ref.t[-n:] - ref.t[-1])
        # What is drawn: the plot area's strip chart, sized to the plot, holding the curve.
        strip = win.graphs.strips[plane]
        assert strip.width == round(win.graphs.plots[plane].vb.width())
        assert (curve_mask(strip)[:, -3:]).any()  # reaches the newest columns
    assert abs(n - keep.sum()) <= 25, (n, keep.sum())
    assert win.graphs.shown["flexion"][0][0] >= -win.graphs.window_s - 1e-9


def test_limits_drawn_as_bands(qtbot, coros) -> None:
    src = SimulatedSource("standing", 5.0, SimConfig(seed=7), speed=0)
    win, _ = build(qtbot, src, coros)
    th = thresholds_for(profile(7))
    for plane, (lo, hi) in th.limits.items():
        assert win.graphs.limits[plane] == pytest.approx((lo, hi))
        assert win.graphs.strips[plane].band == pytest.approx((lo, hi))


def test_rounded_back_under_load_raises_banner_and_buzzes(qtbot, coros) -> None:
    src = SimulatedSource("lifting-session", 40.0, SimConfig(seed=7), speed=0, burst_s=0.1)
    win, ctl = build(qtbot, src, coros)
    seen: list[tuple[bool, str]] = []
    ctl.alert_raised.connect(lambda al: seen.append((win.banner.alerting, win.banner.text())))
    start(src)
    flexion_alert_at = None
    while not ctl.done and flexion_alert_at is None:
        ctl.poll()
        win.draw_frame()
        if ("flexion", "positive") in ctl.active:
            flexion_alert_at = ctl.active[("flexion", "positive")]
    assert flexion_alert_at is not None and flexion_alert_at.under_load
    assert win.banner.alerting and "BACK ROUNDING" in win.banner.text()
    assert all(alerting for alerting, _ in seen)  # the banner was up when each signal fired
    assert win.lights["flexion"].state == "red"
    assert win.latest_angles()[COL["under_load"]] == 1.0
    while coros:  # the haptic commands the window scheduled
        asyncio.run(coros.pop())
    assert ("thoracic", "alert") in [(r, p) for _, r, p in src.signals]


def test_banner_clears_after_the_alert_ends(qtbot, coros) -> None:
    clock = FakeClock()
    src = SimulatedSource("lifting-session", 40.0, SimConfig(seed=7), speed=0, burst_s=0.1)
    win, ctl = build(qtbot, src, coros, clock=clock)
    start(src)
    ended = []
    ctl.alert_ended.connect(ended.append)
    while not ended and not ctl.done:
        ctl.poll()
        win.draw_frame()
    assert ended and win.banner.alerting  # held on screen for a moment
    clock.t += 2.0
    ctl.poll()
    win.draw_frame()
    assert not win.banner.alerting or ctl.active


def test_lost_sensor_shows_lost_then_recovers(qtbot, coros) -> None:
    clock = FakeClock()
    src = SimulatedSource(
        "standing", 8.0, SimConfig(seed=1), lose={"thoracic": (2.0, 1.5)}, clock=clock
    )
    win, ctl = build(qtbot, src, coros, seed=1)
    start(src)
    shown = []
    for _ in range(70):
        clock.t += 0.1
        ctl.poll()
        win.draw_frame()
        shown.append(win.sensors.state_text("thoracic"))
    assert "LOST" in shown
    i = shown.index("LOST")
    assert "STREAMING" in shown[:i] and "STREAMING" in shown[i:]
    assert ctl.status["thoracic"].reconnects == 1
    assert win.sensors.state_text("lumbar") == "STREAMING"
    assert ctl.status["lumbar"].state == LinkState.STREAMING


def test_space_toggles_the_set_and_starts_a_new_rep_list(qtbot, coros) -> None:
    src = SimulatedSource("standing", 6.0, SimConfig(seed=2), speed=0, burst_s=0.5)
    win, ctl = build(qtbot, src, coros, seed=2)
    start(src)
    ctl.poll()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=2000)
    qtbot.keyClick(win, Qt.Key.Key_Space)
    assert ctl.pipeline.in_set and "End set" in win.set_button.text()
    ctl.poll()
    win.draw_frame()
    assert win.load_label.text() == "SET RUNNING"
    assert win.latest_angles()[COL["under_load"]] == 1.0
    qtbot.keyClick(win, Qt.Key.Key_Space)
    assert not ctl.pipeline.in_set


def test_record_toggle_without_a_sink_says_why(qtbot, coros) -> None:
    src = SimulatedSource("standing", 5.0, SimConfig(seed=2), speed=0)
    win, ctl = build(qtbot, src, coros, seed=2)
    msgs: list[str] = []
    ctl.problem.connect(msgs.append)
    assert not win.record_button.isEnabled()
    assert ctl.toggle_recording("x") is False
    assert msgs and "no session store" in msgs[0]


def test_recording_sink_gets_every_block_until_stopped(qtbot, coros) -> None:
    src = SimulatedSource("standing", 5.0, SimConfig(seed=2), speed=0, burst_s=0.5)
    win, ctl = build(qtbot, src, coros, seed=2)
    sink = ListSink()
    ctl.sink = sink
    start(src)
    ctl.poll()
    assert ctl.toggle_recording("/tmp/s.sqlite")
    n = ctl.poll()
    assert ctl.toggle_recording() is False
    ctl.poll()
    assert len(sink.blocks) == n > 0 and sink.stopped and sink.path == "/tmp/s.sqlite"


def test_frames_average_exactly_the_frame_rate(qtbot, coros) -> None:
    """Qt timers count whole ms: the window re-arms its timer so 60 fps is 60, not 58.8."""
    src = SimulatedSource("standing", 5.0, SimConfig(seed=7), speed=0)
    win, _ = build(qtbot, src, coros, fps=60.0)
    clock = FakeClock(100.0)
    win.frame_clock = clock
    win._next_frame = clock.t + win.frame_period_s
    clock.t = win._next_frame
    intervals = []
    for _ in range(600):  # the timer fires exactly when due
        win._tick()
        intervals.append(win.timer.interval())
        clock.t += win.timer.interval() / 1000.0
    assert set(intervals) == {16, 17}
    assert clock.t - 100.0 == pytest.approx(601 / 60.0, abs=0.002)
    clock.t += 0.2  # a stall of 12 frames: no burst of catch-up frames afterwards
    win._tick()
    assert win.timer.interval() in (16, 17)


def test_strip_charts_follow_resize_and_window(qtbot, coros) -> None:
    src = SimulatedSource("lifting-session", 20.0, SimConfig(seed=7), speed=0, burst_s=0.5)
    win, ctl = build(qtbot, src, coros)
    start(src)
    while ctl.elapsed_s < 12.0:
        ctl.poll()
    win.draw_frame()
    before = win.graphs.strips["flexion"].width
    win.resize(1000, 700)  # redrawn at the new size without waiting for new data
    qtbot.waitUntil(lambda: 0 < win.graphs.strips["flexion"].width != before)
    win.window_spin.setValue(8)
    ctl.poll()
    win.draw_frame()
    for plane, strip in win.graphs.strips.items():
        vb = win.graphs.plots[plane].vb
        assert (strip.width, strip.height) == (round(vb.width()), round(vb.height()))
        assert strip.window_s == 8.0
        mask = curve_mask(strip)
        # 8 s of data fill the whole width: the curve starts at the left edge, ends at the right.
        assert mask[:, :3].any() and mask[:, -3:].any()


def test_a_first_rep_review_is_shown_without_ending_an_active_alert(qtbot, coros) -> None:
    from dataclasses import replace

    from posture.alerts import Alert
    from posture.live import LiveUpdate

    clock = FakeClock()
    src = SimulatedSource("standing", 5.0, SimConfig(seed=7), speed=0)
    win, ctl = build(qtbot, src, coros, clock=clock)
    empty = AngleBlock.empty()
    live = Alert(20.0, 20.1, float("nan"), "flexion", "positive", 22.0)
    ctl._consume(LiveUpdate(empty, np.zeros(0, bool), [live], []), 1.0)
    # A review of the same plane and side: raised after it ended, never active.
    review = Alert(10.0, 21.0, 11.5, "flexion", "positive", 27.4)
    assert review.is_review and not live.is_review
    ctl._consume(LiveUpdate(empty, np.zeros(0, bool), [review], [review]), 1.0)
    assert ctl.active == {("flexion", "positive"): live}  # the live alert still runs
    assert ctl.alerts == [live, review]
    assert win.banner.alerting and win.banner.text() == "⚠ FIRST REP: BACK ROUNDING 27°"
    assert len(coros) == 2  # buzzed for both
    clock.t += 2.0  # after the hold, back to what is active
    win.draw_frame()
    assert win.banner.alerting and win.banner.text() == "⚠ BACK ROUNDING"
    ctl._consume(LiveUpdate(empty, np.zeros(0, bool), [], [replace(live, end_s=21.0)]), 1.0)
    clock.t += 2.0
    win.draw_frame()
    assert not win.banner.alerting
