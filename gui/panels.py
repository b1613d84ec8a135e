"""Text panels of the main window: the alert banner, the sensor links and the rep list."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QPaintEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from firmware_bridge.api import LinkState, LinkStatus
from gui.gauges import signed_deg
from posture.alerts import Alert
from posture.records import ROLES
from posture.reps import RepMetrics

ALERT_TEXT = {
    ("flexion", "positive"): "BACK ROUNDING",
    ("flexion", "negative"): "BACK OVER-ARCHED",
    ("lateral_flexion", "positive"): "SIDE BEND RIGHT",
    ("lateral_flexion", "negative"): "SIDE BEND LEFT",
    ("rotation", "positive"): "TWISTING LEFT",
    ("rotation", "negative"): "TWISTING RIGHT",
}

_OK_STYLE = "background:#2b2b2b; color:#9a9a9a; border-radius:6px;"
_ALERT_STYLE = "background:#d42020; color:white; border-radius:6px;"


class AlertBanner(QLabel):
    """Full-width banner, red with huge text while an alert is active (readable from 2 m).

    The strip keeps its height when idle so the layout never jumps. ``first_paint_s`` is the
    wall time of the first paint showing the newest alert (for the latency benchmark).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, parent: QWidget | None = None):
        super().__init__(parent)
        self.alerting = False
        self.first_paint_s = math.nan
        self._painted = True
        self._clock = clock
        f = QFont(self.font())
        f.setBold(True)
        f.setPixelSize(56)
        self.setFont(f)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setFixedHeight(96)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.show_ok()

    def show_ok(self, text: str = "spine within your limits") -> None:
        self.alerting = False
        f = self.font()
        f.setPixelSize(26)
        self.setFont(f)
        self.setStyleSheet(_OK_STYLE)
        self.setText(text)

    def show_alerts(self, active: list[Alert]) -> None:
        """Show the active alerts (newest first); back to idle when none."""
        if not active:
            self.show_ok()
            return
        newest = active[-1]
        text = ALERT_TEXT.get((newest.plane, newest.side), newest.plane.upper())
        if newest.is_review:  # a set's first rep, reviewed once the set was recognised
            text = f"FIRST REP: {text} {abs(newest.peak_deg):.0f}°"
        if len(active) > 1:
            text += f"  +{len(active) - 1}"
        if not self.alerting:
            f = self.font()
            f.setPixelSize(56)
            self.setFont(f)
            self.setStyleSheet(_ALERT_STYLE)
        self.alerting = True
        self._painted = False
        self.setText(f"⚠ {text}")
        self.repaint()  # draw now: an alert must not wait for the next frame

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt name)
        super().paintEvent(event)
        if self.alerting and not self._painted:
            self._painted = True
            self.first_paint_s = self._clock()


_STATE_COLORS = {
    LinkState.STREAMING: "#28aa46",
    LinkState.LOST: "#d42020",
    LinkState.FAILED: "#d42020",
    LinkState.RECONNECTING: "#f0aa14",
    LinkState.CONNECTING: "#f0aa14",
    LinkState.SCANNING: "#f0aa14",
}


def _fmt(v: float | int | None, fmt: str, unit: str) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    return f"{v:{fmt}}{unit}"


class SensorPanel(QGroupBox):
    """One row per role: link state, battery, rate, drops, signal strength."""

    HEADERS = ("sensor", "state", "battery", "rate", "dropped", "signal")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Sensors", parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(6, 6, 6, 6)
        for c, h in enumerate(self.HEADERS):
            lab = QLabel(f"<b>{h}</b>")
            grid.addWidget(lab, 0, c)
        self.cells: dict[str, list[QLabel]] = {}
        for r, role in enumerate(ROLES, start=1):
            row = [QLabel(role)] + [QLabel("—") for _ in self.HEADERS[1:]]
            for c, lab in enumerate(row):
                grid.addWidget(lab, r, c)
            self.cells[role] = row

    def state_text(self, role: str) -> str:
        return self.cells[role][1].text()

    def show_status(self, status: dict[str, LinkStatus]) -> None:
        for role, st in status.items():
            if role not in self.cells:
                continue
            name, state, batt, rate, drop, sig = self.cells[role]
            name.setText(f"{role}\n{st.name or st.address}")
            name.setToolTip(f"{st.address} {st.profile}".strip())
            state.setText(st.state.value.upper())
            color = _STATE_COLORS.get(st.state, "#888888")
            state.setStyleSheet(f"color:{color}; font-weight:bold;")
            state.setToolTip(st.message)
            batt.setText(_fmt(st.battery_pct, "d", " %"))
            rate.setText(_fmt(st.rate_hz, ".0f", " Hz"))
            drop.setText(f"{st.dropped}" + (f" ({st.reconnects}×⟳)" if st.reconnects else ""))
            sig.setText(_fmt(st.rssi_dbm, "d", " dBm"))


class RepTable(QTableWidget):
    """The reps of the current set: peaks per plane, hip share, time under tension."""

    HEADERS = ("#", "flexion", "side bend", "rotation", "hip share", "TUT")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(self.HEADERS), parent)
        self.setHorizontalHeaderLabels(list(self.HEADERS))
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)

    def show_reps(self, reps: list[RepMetrics], limits: dict[str, tuple[float, float]]) -> None:
        self.setRowCount(len(reps))
        for i, r in enumerate(reps):
            cells = (
                f"{i + 1}",
                signed_deg(r.peak_flexion_deg),
                signed_deg(r.peak_lateral_flexion_deg),
                signed_deg(r.peak_rotation_deg),
                f"{100 * r.hip_share:.0f} %",
                f"{r.time_under_tension_s:.1f} s",
            )
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if c == 1 and r.peak_flexion_deg > limits.get("flexion", (-90, 90))[1]:
                    item.setForeground(Qt.GlobalColor.red)
                self.setItem(i, c, item)
        if reps:
            self.scrollToBottom()
