"""The calibration wizard: pair sensors to roles, stand still, cat-cow, result and save.

It reads raw blocks from any :class:`~firmware_bridge.api.SampleSource`, shows live feedback
(:mod:`gui.calib_feedback`), records from the start of the standing step and runs
:func:`calibration.calibrate` on the recording. Steps advance by themselves when the wearer
has done what was asked (3 s of stillness; three cat-cow cycles and a moment of rest), so it
can be followed from across the room; the buttons are there to go on or start again.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from calibration import CalibrationProfile, calibrate
from calibration.profile import CalibrationError
from firmware_bridge.api import LinkState, SampleSource
from gui.calib_feedback import CatCowTracker, MotionMeter
from gui.source_adapters import SWAP, swap_role
from posture.acc_correction import AccCorrection
from posture.errors import SpinewatchError
from posture.records import ROLES, ImuBlock

STEPS = ("pair", "stand", "catcow", "result")
GOOD_QUALITY = 0.6

PAIR_TEXT = (
    "<h2>1 · Which sensor is where?</h2>"
    "<p>Strap one sensor on your upper back (just below the shoulder blades, about T12) and "
    "one low on your back (sacrum). Now <b>tap or wiggle the upper sensor</b>: the "
    "<i>thoracic</i> bar should jump. If the <i>lumbar</i> bar jumps instead, press "
    "<b>Swap sensors</b>.</p>"
)
STAND_TEXT = (
    "<h2>2 · Stand tall and still</h2>"
    "<p>Stand upright, arms relaxed, looking ahead. Hold still until the bar is full.</p>"
)
CATCOW_TEXT = (
    "<h2>3 · Cat-cow, three times</h2>"
    "<p>Hands on your knees (or on all fours). <b>Round your back fully</b>, then <b>arch it "
    "fully</b>, slowly. Do it three times, then stand up and hold still.</p>"
)


def _big(text: str, px: int = 28) -> QLabel:
    lab = QLabel(text)
    f = QFont(lab.font())
    f.setPixelSize(px)
    f.setBold(True)
    lab.setFont(f)
    lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return lab


def _bar(maximum: int, fmt: str) -> QProgressBar:
    b = QProgressBar()
    b.setRange(0, maximum)
    b.setFormat(fmt)
    b.setMinimumHeight(34)
    return b


class CalibrationWizard(QDialog):
    """Walks the wearer through calibration on a live source.

    When the roles were swapped (:attr:`swapped`), wrap the live source of the main window in
    :class:`~gui.source_adapters.SwappedRoles` so it sees the same roles.

    Args:
        source: the sensors (any SampleSource; the caller starts and stops it).
        save_path: where "Save and use" writes the profile JSON.
        stand_s: stillness required in the standing step, s.
        cycles: cat-cow cycles required.
        rest_s: stillness after the cycles that ends the recording, s.
        poll_ms: how often the source is read.
        sensors: the sensors' table calibration (``spinewatch calibrate-sensors``), looked up
            by each sensor's id, else by role name; the profile then carries the correction.

    Signals:
        profile_ready(CalibrationProfile): emitted when the profile was saved and accepted.
    """

    profile_ready = Signal(object)

    def __init__(
        self,
        source: SampleSource,
        save_path: str | Path,
        *,
        stand_s: float = 3.0,
        cycles: int = 3,
        rest_s: float = 1.0,
        poll_ms: int = 20,
        sensors: str | Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("spinewatch · calibration")
        self.source = source
        self.stand_s = stand_s
        self.cycles = cycles
        self.rest_s = rest_s
        self.swapped = False
        self.sensors = None if sensors is None else Path(sensors)
        self.profile: CalibrationProfile | None = None
        self.error = ""
        self.meter = MotionMeter()
        self.tracker: CatCowTracker | None = None
        self._recording: dict[str, list[ImuBlock]] = {r: [] for r in ROLES}
        self._stand_acc = {r: np.zeros(3) for r in ROLES}
        self._seen: set[str] = set()
        self.stack = QStackedWidget()
        layout = QVBoxLayout(self)
        self.step_label = QLabel()
        layout.addWidget(self.step_label)
        layout.addWidget(self.stack, stretch=1)
        self._build_pair()
        self._build_stand()
        self._build_catcow()
        self._build_result(Path(save_path))
        self.timer = QTimer(self)
        self.timer.setInterval(poll_ms)
        self.timer.timeout.connect(self.poll)
        self.go("pair")
        self.resize(760, 520)

    # -- pages ---------------------------------------------------------------------------------
    def _page(self, text: str) -> tuple[QWidget, QVBoxLayout]:
        w = QWidget()
        lay = QVBoxLayout(w)
        lab = QLabel(text)
        lab.setWordWrap(True)
        lay.addWidget(lab)
        self.stack.addWidget(w)
        return w, lay

    def _build_pair(self) -> None:
        _, lay = self._page(PAIR_TEXT)
        grid = QGridLayout()
        self.role_labels: dict[str, QLabel] = {}
        self.gyro_bars: dict[str, QProgressBar] = {}
        for i, role in enumerate(ROLES):
            self.role_labels[role] = QLabel(f"<b>{role}</b> — waiting for the sensor…")
            self.role_labels[role].setMinimumWidth(300)
            self.gyro_bars[role] = _bar(300, "%v °/s")
            grid.addWidget(self.role_labels[role], i, 0)
            grid.addWidget(self.gyro_bars[role], i, 1)
        grid.setColumnStretch(1, 1)
        lay.addLayout(grid)
        lay.addStretch(1)
        row = QHBoxLayout()
        self.swap_button = QPushButton("Swap sensors")
        self.swap_button.clicked.connect(self.swap_roles)
        self.pair_next = QPushButton("Next: stand still →")
        self.pair_next.setEnabled(False)
        self.pair_next.clicked.connect(self.to_stand)  # a method: lambdas upset PySide6 6.12
        row.addWidget(self.swap_button)
        row.addStretch(1)
        row.addWidget(self.pair_next)
        lay.addLayout(row)

    def _build_stand(self) -> None:
        _, lay = self._page(STAND_TEXT)
        lay.addWidget(QLabel("steadiness"))
        self.steady_bar = _bar(100, "%p %")
        lay.addWidget(self.steady_bar)
        lay.addWidget(QLabel("held still"))
        self.hold_bar = _bar(int(self.stand_s * 10), "")
        lay.addWidget(self.hold_bar)
        self.hold_label = _big("0.0 s")
        lay.addWidget(self.hold_label)
        lay.addStretch(1)

    def _build_catcow(self) -> None:
        _, lay = self._page(CATCOW_TEXT)
        self.bend_label = _big("—", 48)
        lay.addWidget(self.bend_label)
        self.range_label = _big("rounded —   arched —", 22)
        lay.addWidget(self.range_label)
        self.cycle_bar = _bar(self.cycles, f"%v / {self.cycles} cycles")
        lay.addWidget(self.cycle_bar)
        lay.addStretch(1)
        row = QHBoxLayout()
        again = QPushButton("Start again")
        again.clicked.connect(self.retry)
        self.finish_button = QPushButton("Finish now")
        self.finish_button.clicked.connect(self.compute)
        row.addWidget(again)
        row.addStretch(1)
        row.addWidget(self.finish_button)
        lay.addLayout(row)

    def _build_result(self, save_path: Path) -> None:
        _, lay = self._page("<h2>4 · Your neutral spine</h2>")
        self.result_title = _big("", 26)
        lay.addWidget(self.result_title)
        self.result_text = QLabel()
        self.result_text.setWordWrap(True)
        self.result_text.setTextFormat(Qt.TextFormat.RichText)
        self.result_text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        lay.addWidget(self.result_text, stretch=1)
        row = QHBoxLayout()
        row.addWidget(QLabel("profile file"))
        self.path_edit = QLineEdit(str(save_path))
        row.addWidget(self.path_edit, stretch=1)
        lay.addLayout(row)
        row = QHBoxLayout()
        self.retry_button = QPushButton("Retry calibration")
        self.retry_button.clicked.connect(self.retry)
        self.save_button = QPushButton("Save and use")
        self.save_button.clicked.connect(self.save)
        row.addWidget(self.retry_button)
        row.addStretch(1)
        row.addWidget(self.save_button)
        lay.addLayout(row)

    # -- flow ----------------------------------------------------------------------------------
    @property
    def step(self) -> str:
        return STEPS[self.stack.currentIndex()]

    def go(self, step: str) -> None:
        i = STEPS.index(step)
        if step == "stand":
            self._recording = {r: [] for r in ROLES}
            self._stand_acc = {r: np.zeros(3) for r in ROLES}
            self.tracker = None
        self.stack.setCurrentIndex(i)
        self.step_label.setText(f"step {i + 1} of {len(STEPS)}")

    def to_stand(self) -> None:
        self.go("stand")

    def start_polling(self) -> None:
        self.timer.start()

    def swap_roles(self) -> None:
        """The sensors were strapped the other way round: exchange their roles."""
        self.swapped = not self.swapped
        self.meter = MotionMeter()
        self._seen.clear()

    def retry(self) -> None:
        self.profile = None
        self.error = ""
        self.go("stand")

    def poll(self) -> None:
        """Read the source once, update the feedback and advance when the step is done."""
        try:
            blocks = self.source.read()
        except SpinewatchError as exc:
            self.step_label.setText(str(exc))
            return
        step = self.step
        for blk in blocks:
            b = swap_role(blk) if self.swapped else blk
            if not isinstance(b, ImuBlock) or len(b) == 0:
                continue
            self._seen.add(b.sensor)
            self.meter.push(b)
            if step in ("stand", "catcow") and b.sensor in self._recording:
                self._recording[b.sensor].append(b)
            if step == "stand" and self.meter.still_for() > 0:
                self._stand_acc[b.sensor] += b.acc.sum(axis=0)
            if step == "catcow" and self.tracker is not None:
                self.tracker.push(b)
        self._show(step)
        if step == "stand" and self.meter.still_for() >= self.stand_s:
            self.tracker = CatCowTracker(self._stand_acc)
            self.go("catcow")
        elif (
            step == "catcow"
            and self.tracker is not None
            and self.tracker.cycles >= self.cycles
            and self.meter.still_for() >= self.rest_s
        ):
            self.compute()

    def _show(self, step: str) -> None:
        if step == "pair":
            status = self.source.status()
            for role in ROLES:
                src_role = SWAP[role] if self.swapped else role
                st = status.get(src_role)
                who = f"{st.name or st.address} ({st.state.value})" if st else "no sensor"
                self.role_labels[role].setText(f"<b>{role}</b> — {who}")
                g = self.meter.gyro[role]
                self.gyro_bars[role].setValue(int(math.degrees(g)) if math.isfinite(g) else 0)
            ok = all(s.state == LinkState.STREAMING for s in status.values()) and self._seen >= set(
                ROLES
            )
            self.pair_next.setEnabled(ok)
        elif step == "stand":
            self.steady_bar.setValue(int(100 * self.meter.steadiness()))
            held = self.meter.still_for()
            self.hold_bar.setValue(min(self.hold_bar.maximum(), int(held * 10)))
            self.hold_label.setText(f"{held:.1f} s of {self.stand_s:.0f} s")
        elif step == "catcow" and self.tracker is not None:
            tr = self.tracker
            if math.isfinite(tr.bend_deg):
                self.bend_label.setText(f"{tr.bend_deg:+.0f}°")
                self.range_label.setText(
                    f"rounded {tr.max_bend:+.0f}°   arched {tr.min_bend:+.0f}°"
                )
            self.cycle_bar.setValue(min(tr.cycles, self.cycles))

    def compute(self) -> None:
        """Calibrate on the recording and show the result (or why it failed)."""
        raw = {r: ImuBlock.concat(bs) for r, bs in self._recording.items() if bs}
        status = self.source.status()
        ids = {}
        for role in ROLES:
            st = status.get(SWAP[role] if self.swapped else role)
            if st is not None:
                ids[role] = st.address or st.name
        try:
            self.profile = calibrate(raw, sensor_ids=ids, acc_correction=self._corrections(ids))
            self.error = ""
        except SpinewatchError as exc:
            self.profile = None
            self.error = str(exc)
            seen = 0 if self.tracker is None else self.tracker.cycles
            if seen < self.cycles:
                self.error = (
                    f"only {seen} of {self.cycles} cat-cow cycles were seen: round your back "
                    f"fully, then arch it fully, {self.cycles} times, slowly. "
                    f"(The calibration said: {self.error})"
                )
        self._show_result()
        self.go("result")

    def _corrections(self, ids: dict[str, str]) -> dict[str, AccCorrection] | None:
        """The table calibration of these sensors: by sensor id, else by role (a file made
        with the default ids); the error names what is missing."""
        if self.sensors is None:
            return None
        from calibration.sensor_table import corrections_for

        try:
            return corrections_for(self.sensors, ids)
        except CalibrationError:
            try:
                return corrections_for(self.sensors, {r: r for r in ROLES})
            except CalibrationError:
                pass
            raise

    def _show_result(self) -> None:
        p = self.profile
        if p is None:
            self.result_title.setText("That did not work — please try again")
            self.result_title.setStyleSheet("color:#d42020;")
            self.result_text.setText(f"<p style='font-size:16px'>{self.error}</p>")
            self.save_button.setEnabled(False)
            return
        good = p.quality >= GOOD_QUALITY
        self.result_title.setText(
            f"Calibrated · quality {100 * p.quality:.0f} %"
            if good
            else f"Quality is poor ({100 * p.quality:.0f} %): retry recommended"
        )
        self.result_title.setStyleSheet("color:#28aa46;" if good else "color:#e07800;")
        rows = "".join(
            f"<tr><td>{plane.replace('_', ' ')}</td><td>{lo:+.0f}°</td><td>{hi:+.0f}°</td>"
            f"<td>{'measured' if plane in p.measured_planes else 'default'}</td></tr>"
            for plane, (lo, hi) in p.ranges.items()
        )
        weak = [k for k, v in p.quality_components.items() if v < GOOD_QUALITY]
        why = (
            f"<p>Weak: {', '.join(k.replace('_', ' ') for k in weak)}. Move slowly and fully, "
            "keep the straps tight, then retry.</p>"
            if weak and not good
            else ""
        )
        self.result_text.setText(
            "<table cellpadding=6><tr><th>plane</th><th>back/left</th><th>forward/right</th>"
            f"<th></th></tr>{rows}</table>"
            f"<p>Neutral is halfway between your fullest rounding and arching; standing tall "
            f"you are at <b>{p.standing_flexion_deg:+.0f}°</b> from it.</p>{why}"
        )
        self.save_button.setEnabled(True)

    def save(self) -> None:
        """Write the profile, announce it and close the wizard."""
        if self.profile is None:
            return
        path = Path(self.path_edit.text()).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.profile.save(path)
        except OSError as exc:
            self.result_text.setText(f"<p>could not save the profile to {path}: {exc}</p>")
            return
        self.timer.stop()
        self.profile_ready.emit(self.profile)
        self.accept()
