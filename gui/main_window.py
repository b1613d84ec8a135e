"""The main window: banner, live graphs, traffic lights, stick figures, sensors, set and reps.

It draws from a :class:`~gui.controller.LiveController` on its own repaint timer (default
60 Hz), independent of how often data arrives; alerts are drawn at once when raised.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui.controller import COL, LiveController
from gui.gauges import StickFigure, TrafficLight, light_for
from gui.graphs import AngleGraphs
from gui.panels import AlertBanner, RepTable, SensorPanel
from gui.source_adapters import Playback
from posture.alerts import Alert
from posture.thresholds import PLANES, Thresholds

BANNER_HOLD_S = 1.5  # an alert stays on screen at least this long
SPEEDS = (0.5, 1.0, 2.0, 4.0, 10.0)


class MainWindow(QMainWindow):
    """Live view of one wearer.

    Args:
        controller: the data side (source + pipeline), already constructed.
        thresholds: the limits drawn as bands and used for the traffic lights.
        window_s: seconds shown in the graphs (adjustable in the window, 5–120 s).
        fps: repaint rate of the graphs and gauges.
        sound: beep on each alert.
        record_dir: folder for recordings (when the controller has a sink).
        clock: wall clock, s.
    """

    def __init__(
        self,
        controller: LiveController,
        thresholds: Thresholds,
        *,
        window_s: float = 30.0,
        fps: float = 60.0,
        sound: bool = False,
        record_dir: str | Path = ".",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.setWindowTitle("spinewatch")
        self.controller = controller
        self.limits: dict[str, tuple[float, float]] = {
            p: (float(thresholds.limits[p][0]), float(thresholds.limits[p][1])) for p in PLANES
        }
        self.record_dir = Path(record_dir)
        self.frames = 0  # repaint ticks that drew new data
        self._clock = clock
        self._drawn = math.nan
        self._status_tick = 0
        self._shown_states: tuple[object, ...] = ()
        self._raised_wall = -math.inf
        self._review_shown = False  # the banner shows a first-rep review (not active)

        central = QWidget()
        self.setCentralWidget(central)
        root = QVBoxLayout(central)
        self.banner = AlertBanner(clock)
        root.addWidget(self.banner)

        middle = QHBoxLayout()
        root.addLayout(middle, stretch=3)
        left = QVBoxLayout()
        middle.addLayout(left, stretch=3)
        self.graphs = AngleGraphs(window_s)
        self.graphs.set_limits(self.limits)
        left.addWidget(self.graphs, stretch=1)
        wrow = QHBoxLayout()
        wrow.addWidget(QLabel("window"))
        self.window_spin = QSpinBox()
        self.window_spin.setRange(5, int(controller.buffer.capacity / 200))
        self.window_spin.setValue(int(window_s))
        self.window_spin.setSuffix(" s")
        self.window_spin.valueChanged.connect(self._set_window)
        wrow.addWidget(self.window_spin)
        wrow.addStretch(1)
        left.addLayout(wrow)

        right = QVBoxLayout()
        middle.addLayout(right, stretch=2)
        lights = QHBoxLayout()
        self.lights = {p: TrafficLight(p) for p in PLANES}
        for w in self.lights.values():
            lights.addWidget(w)
        right.addLayout(lights, stretch=2)
        self.figure = StickFigure()
        right.addWidget(self.figure, stretch=2)
        loadrow = QHBoxLayout()
        self.load_label = QLabel("no load")
        self.load_label.setStyleSheet("font-size:22px; font-weight:bold;")
        loadrow.addWidget(self.load_label, stretch=1)
        self.set_button = QPushButton("Start set  [Space]")
        self.set_button.setStyleSheet("font-size:18px; padding:8px;")
        self.set_button.clicked.connect(self.toggle_set)
        loadrow.addWidget(self.set_button)
        right.addLayout(loadrow)

        bottom = QGridLayout()
        root.addLayout(bottom, stretch=1)
        self.sensors = SensorPanel()
        bottom.addWidget(self.sensors, 0, 0)
        self.reps = RepTable()
        bottom.addWidget(self.reps, 0, 1)
        bottom.setColumnStretch(1, 1)
        controls = QVBoxLayout()
        bottom.addLayout(controls, 0, 2)
        self.sound = QCheckBox("sound")
        self.sound.setChecked(sound)
        controls.addWidget(self.sound)
        self.record_button = QPushButton("● Record")
        self.record_button.setEnabled(controller.sink is not None)
        self.record_button.clicked.connect(self.toggle_recording)
        controls.addWidget(self.record_button)
        self.play_button = QPushButton("Pause")
        self.speed_box = QComboBox()
        for s in SPEEDS:
            self.speed_box.addItem(f"{s:g}×", s)
        playback = controller.source if isinstance(controller.source, Playback) else None
        self.playback = playback
        if playback is not None:
            self.speed_box.setCurrentIndex(
                min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - playback.speed))
            )
            self.play_button.clicked.connect(self.toggle_pause)
            self.speed_box.currentIndexChanged.connect(self._set_speed)
            controls.addWidget(self.play_button)
            controls.addWidget(self.speed_box)
        else:
            self.play_button.hide()
            self.speed_box.hide()
        controls.addStretch(1)
        for b in (self.set_button, self.record_button, self.play_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space belongs to the set toggle

        self.set_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Space), self)
        self.set_shortcut.activated.connect(self.toggle_set)

        controller.alert_raised.connect(self._on_alert)
        controller.alert_ended.connect(self._on_alert_end)
        # Bound methods, not lambdas: PySide6 6.12 warns ("shared QObject was deleted
        # directly") and can corrupt memory when a window with lambda slots is deleted.
        controller.rep_done.connect(self._on_rep)
        controller.set_changed.connect(self._on_set)
        controller.recording_changed.connect(self._on_recording)
        controller.source_finished.connect(self._on_finished)
        controller.problem.connect(self._on_problem)
        # Frames on a fixed grid of 1/fps: Qt timers count whole milliseconds, so a fixed
        # interval gives 58.8 or 62.5 fps for 60; each tick re-arms the timer for the next
        # grid point instead (16 or 17 ms), which averages to exactly fps.
        self.frame_period_s = 1.0 / fps
        self.frame_clock: Callable[[], float] = time.perf_counter  # paces the frames, s
        self._next_frame = self.frame_clock() + self.frame_period_s
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(max(1, int(1000.0 * self.frame_period_s)))
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        self.resize(1280, 800)

    # -- actions -----------------------------------------------------------------------------
    def toggle_set(self) -> None:
        self.controller.toggle_set()

    def toggle_recording(self) -> None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        self.controller.toggle_recording(str(self.record_dir / f"session-{stamp}.sqlite"))

    def toggle_pause(self) -> None:
        if self.playback is not None:
            self.playback.set_paused(not self.playback.paused)
            self.play_button.setText("Play" if self.playback.paused else "Pause")

    def _set_speed(self, index: int) -> None:
        if self.playback is not None:
            self.playback.set_speed(SPEEDS[index])

    def _set_window(self, seconds: int) -> None:
        self.graphs.set_window(seconds)
        self._drawn = math.nan

    def _on_set(self, in_set: bool) -> None:
        self.set_button.setText("End set  [Space]" if in_set else "Start set  [Space]")
        self.reps.show_reps(self.controller.set_reps, self.limits)
        self._drawn = math.nan

    def _on_rep(self, _rep: object) -> None:
        self.reps.show_reps(self.controller.set_reps, self.limits)

    def _on_finished(self) -> None:
        self.statusBar().showMessage("the recording has ended")

    def _on_problem(self, message: str) -> None:
        self.statusBar().showMessage(message, 10000)

    def _on_recording(self, on: bool) -> None:
        self.record_button.setText("■ Stop recording" if on else "● Record")

    def _on_alert(self, alert: Alert) -> None:
        self._raised_wall = self._clock()
        active = list(self.controller.active.values())
        # A review (not active) is shown on its own for the hold time.
        self._review_shown = alert.is_review
        self.banner.show_alerts([alert] if alert.is_review else active)
        if self.sound.isChecked():
            QApplication.beep()

    def _on_alert_end(self, alert: Alert) -> None:
        if self.controller.active and not self._review_shown:
            self.banner.show_alerts(list(self.controller.active.values()))

    # -- the frame -----------------------------------------------------------------------------
    def _tick(self) -> None:
        now = self.frame_clock()
        period = self.frame_period_s
        self._next_frame += period
        if self._next_frame < now:  # more than a frame late (busy machine): no burst of frames
            self._next_frame = now + period
        self.timer.setInterval(max(0, round(1000.0 * (self._next_frame - now))))
        self.draw_frame()

    def draw_frame(self) -> None:
        """One repaint tick: new data into graphs, gauges and figure; status every 0.25 s."""
        c = self.controller
        self._status_tick += 1
        states = tuple(st.state for st in c.status.values())
        if c.status and (states != self._shown_states or self._status_tick % 15 == 1):
            self._shown_states = states  # a state change shows at once, counters at 4 Hz
            self.sensors.show_status(c.status)
        if (
            self.banner.alerting
            and (self._review_shown or not c.active)
            and self._clock() - self._raised_wall > BANNER_HOLD_S
        ):
            self._review_shown = False
            self.banner.show_alerts(list(c.active.values()))  # idle when none
        last = c.buffer.last()
        if last is None:
            return
        t_edge = c.now_s()
        if t_edge == self._drawn:
            return  # nothing moved (paused or stopped)
        self._drawn = t_edge
        self.frames += 1
        t, v = c.buffer.since(t_edge - self.graphs.window_s)
        self.graphs.show_data(t, v[:, :3], v[:, COL["under_load"]], t_edge)
        _t_last, row = last
        loaded = bool(row[COL["under_load"]] > 0.5)
        active_planes = {p for p, _ in c.active}
        colors = {}
        for j, plane in enumerate(PLANES):
            state = light_for(float(row[j]), self.limits[plane], loaded, plane in active_planes)
            if plane == "rotation" and c.pipeline.rotation_uncertain and state != "red":
                state = "grey"  # expected rotation error too large to judge (posture.anchors)
            colors[plane] = state
            self.lights[plane].set_reading(float(row[j]), state, self.limits[plane])
        self.figure.set_pose(
            float(row[COL["thoracic_inclination"]]),
            float(row[COL["lumbar_inclination"]]),
            float(row[COL["hip_angle"]]),
            float(row[COL["lateral_flexion"]]),
            colors,
        )
        text = "SET RUNNING" if c.pipeline.in_set else ("UNDER LOAD" if loaded else "no load")
        if text != self.load_label.text():
            self.load_label.setText(text)
            color = "#e07800" if text != "no load" else "#777777"
            self.load_label.setStyleSheet(f"font-size:22px; font-weight:bold; color:{color};")

    def latest_angles(self) -> np.ndarray:
        """The newest buffered row (see :data:`gui.controller.COLUMNS`), NaN when empty."""
        last = self.controller.buffer.last()
        return np.full(len(COL), np.nan) if last is None else last[1]

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt name)
        self.timer.stop()
        super().closeEvent(event)
