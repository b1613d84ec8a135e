"""Coach and Progress pages: the drill programme in the window.

Pure views (no I/O, no timers): :class:`CoachPage` shows the programme with what is passed,
unlocked and locked, the current drill's instruction and picture, the challenged plane big
with the wearer's neutral band, the cue as text, the rep/hold count, the rest timer and the
verdict of each set. :class:`ProgressPage` plots each drill's score per set over the weeks.
The coach driver (``spinewatch/coach``) feeds them; gui never imports spinewatch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pyqtgraph as pg
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui.gauges import StickFigure, TrafficLight, light_for
from posture.drills import PROGRAM, DrillSpec, NeutralBand, get_spec

# A picture per drill: the side-view pose at the hardest point (thoracic incl, lumbar incl,
# hip angle), drawn by the window's stick figure.
POSES: dict[str, tuple[float, float, float]] = {
    "cat-cow": (95.0, 80.0, 80.0),
    "dowel-hinge-kneeling": (40.0, 35.0, 35.0),
    "dowel-hinge-standing": (60.0, 55.0, 55.0),
    "hip-extension": (50.0, 45.0, 45.0),
    "glute-bridge": (-115.0, -115.0, -115.0),
    "box-squat": (45.0, 40.0, 40.0),
    "kettlebell-swing": (60.0, 55.0, 55.0),
    "plank": (90.0, 90.0, 90.0),
    "side-plank-left": (0.0, 0.0, 0.0),
    "side-plank-right": (0.0, 0.0, 0.0),
    "pallof-press": (0.0, 0.0, 0.0),
    "turn-with-hips": (0.0, 0.0, 0.0),
    "deadlift": (70.0, 65.0, 65.0),
}
STATUS_MARK = {"passed": "✓", "next": "▶", "locked": "·", "failed": "✗"}


def challenged_plane(spec: DrillSpec) -> str:
    """The plane shown big: the first watched plane (flexion for the extension-only holds)."""
    for p in spec.watched:
        return "flexion" if p == "extension" else p
    return "flexion"


def _big(label: QLabel, px: int, bold: bool = True) -> QLabel:
    f = QFont(label.font())
    f.setPixelSize(px)
    f.setBold(bold)
    label.setFont(f)
    return label


class CoachPage(QWidget):
    """The Coach page (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.programme = QListWidget()
        self.programme.setMaximumWidth(260)
        self.title = _big(QLabel(), 26)
        self.instruction = QLabel()
        self.instruction.setWordWrap(True)
        self.rule = QLabel()
        self.rule.setWordWrap(True)
        self.picture = StickFigure()
        self.plane = TrafficLight("flexion")
        self.cue = _big(QLabel(" "), 24)
        self.cue.setWordWrap(True)
        self.cue.setMinimumHeight(70)
        self.count = _big(QLabel("—"), 30)
        self.rest = _big(QLabel(""), 22, bold=False)
        self.sets = QListWidget()
        self.sets.setMaximumHeight(110)
        grid = QGridLayout()
        grid.addWidget(self.title, 0, 0, 1, 2)
        grid.addWidget(self.instruction, 1, 0, 1, 2)
        grid.addWidget(self.rule, 2, 0, 1, 2)
        grid.addWidget(self.picture, 3, 0)
        grid.addWidget(self.plane, 3, 1)
        grid.addWidget(self.count, 4, 0)
        grid.addWidget(self.rest, 4, 1)
        grid.addWidget(self.cue, 5, 0, 1, 2)
        grid.addWidget(self.sets, 6, 0, 1, 2)
        grid.setRowStretch(3, 1)
        outer = QGridLayout(self)
        outer.addWidget(self.programme, 0, 0)
        outer.addLayout(grid, 0, 1)
        outer.setColumnStretch(1, 1)
        self.band = NeutralBand()
        self.spec = get_spec(PROGRAM[0])

    def show_programme(self, status: Mapping[str, str]) -> None:
        """``status``: drill → passed / next / locked / failed."""
        self.programme.clear()
        for name in PROGRAM:
            spec = get_spec(name)
            st = status.get(name, "locked")
            item = QListWidgetItem(f"{STATUS_MARK[st]}  {spec.stage}. {spec.title}")
            item.setData(256, name)
            self.programme.addItem(item)
            if name == self.spec.name:
                self.programme.setCurrentItem(item)

    def show_drill(self, name: str, band: NeutralBand) -> None:
        self.spec, self.band = get_spec(name), band
        s = self.spec
        self.title.setText(f"{s.title}  —  stage {s.stage}")
        self.instruction.setText(s.instruction)
        self.rule.setText(f"Pass: {s.pass_rule}.")
        tho, lum, hip = POSES.get(name, (0.0, 0.0, 0.0))
        self.picture.set_pose(tho, lum, hip, 0.0, {"flexion": "green", "lateral_flexion": "green"})
        self.plane.plane = challenged_plane(s)
        self.cue.setText(" ")
        self.count.setText("—")
        self.rest.setText("")
        self.sets.clear()
        for i in range(self.programme.count()):
            if self.programme.item(i).data(256) == name:
                self.programme.setCurrentRow(i)

    def show_live(self, value: float, count_text: str, pose: Sequence[float] | None = None) -> None:
        """The challenged plane's angle (deg from neutral), the count, the live pose."""
        plane = self.plane.plane
        limits = getattr(self.band, plane)
        state = light_for(value, limits, True, False) if math.isfinite(value) else "grey"
        self.plane.set_reading(value, state, limits)
        self.count.setText(count_text)
        if pose is not None:
            colours = {"flexion": state, "lateral_flexion": state}
            self.picture.set_pose(pose[0], pose[1], pose[2], pose[3], colours)

    def show_cue(self, text: str) -> None:
        self.cue.setText(text)
        self.cue.setStyleSheet("background:#f0aa14; color:#202020; border-radius:6px;")

    def clear_cue(self) -> None:
        self.cue.setText(" ")
        self.cue.setStyleSheet("")

    def show_rest(self, seconds_left: float) -> None:
        self.rest.setText(f"rest {int(seconds_left) // 60}:{int(seconds_left) % 60:02d}")

    def add_set_result(self, text: str, passed: bool) -> None:
        self.sets.addItem(f"{'✓' if passed else '✗'}  {text}")
        self.rest.setText("")


class ProgressPage(QWidget):
    """Score per set (0–100) of one drill against days, with the weekly means joined."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.drill = QComboBox()
        self.summary = QLabel()
        self.plot = pg.PlotWidget(background="w")
        self.plot.setYRange(0, 100)
        self.plot.setLabel("left", "score")
        self.plot.setLabel("bottom", "days since the first set")
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        lay = QVBoxLayout(self)
        lay.addWidget(self.drill)
        lay.addWidget(self.summary)
        lay.addWidget(self.plot, 1)
        self._series: dict[
            str, tuple[list[float], list[float], list[tuple[float, float, str]], str]
        ] = {}
        self.drill.currentIndexChanged.connect(self._redraw)

    def set_series(
        self,
        series: Mapping[
            str, tuple[Sequence[float], Sequence[float], Sequence[tuple[float, float, str]], str]
        ],
    ) -> None:
        """drill → (days, scores, weekly (day, mean, label) points, summary text)."""
        self._series = {k: (list(a), list(b), list(c), d) for k, (a, b, c, d) in series.items()}
        self.drill.blockSignals(True)
        self.drill.clear()
        for name in PROGRAM:
            if name in self._series:
                self.drill.addItem(get_spec(name).title, name)
        self.drill.blockSignals(False)
        self._redraw()

    def _redraw(self) -> None:
        self.plot.clear()
        name = self.drill.currentData()
        if name is None or name not in self._series:
            self.summary.setText("no drill results yet: train with 'spinewatch train'")
            return
        days, scores, weeks, text = self._series[name]
        self.summary.setText(text)
        self.plot.plot(days, scores, pen=None, symbol="o", symbolBrush=(74, 122, 181), symbolSize=9)
        if len(weeks) > 1:
            self.plot.plot(
                [w[0] for w in weeks], [w[1] for w in weeks], pen=pg.mkPen((217, 130, 43), width=3)
            )
        self.plot.setYRange(0, 105)


class CoachWindow(QTabWidget):
    """The Coach and Progress pages as tabs (``spinewatch train --gui``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.coach = CoachPage()
        self.progress = ProgressPage()
        self.addTab(self.coach, "Coach")
        self.addTab(self.progress, "Progress")
        self.setWindowTitle("spinewatch — coach")
        self.resize(1100, 720)
