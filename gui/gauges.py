"""Painted at-a-glance widgets: per-plane traffic lights and the side/back stick figures."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

GREEN = QColor(40, 170, 70)
AMBER = QColor(240, 170, 20)
RED = QColor(215, 35, 35)
GREY = QColor(120, 120, 120)
NEAR_FRACTION = 0.75  # "near the limit" from this fraction of it

PLANE_TITLES = {
    "flexion": "Flexion",
    "lateral_flexion": "Side bend",
    "rotation": "Rotation",
}


def light_for(value: float, limits: tuple[float, float], under_load: bool, alert: bool) -> str:
    """The traffic-light colour of one plane.

    Green inside the band, amber near a limit (or beyond it without load), red beyond it under
    load or while an alert of the plane is active, grey without data.
    """
    if alert:
        return "red"
    if not math.isfinite(value):
        return "grey"
    lo, hi = limits
    beyond = value > hi or value < lo
    if beyond:
        return "red" if under_load else "amber"
    if value > NEAR_FRACTION * hi or value < NEAR_FRACTION * lo:
        return "amber"
    return "green"


def signed_deg(value: float) -> str:
    """``+12°``, ``0°``, ``-7°`` (no ``-0°``), ``—`` without data."""
    if not math.isfinite(value):
        return "—"
    v = round(value)
    return f"{v:+d}°" if v else "0°"


_COLORS = {"green": GREEN, "amber": AMBER, "red": RED, "grey": GREY}


class TrafficLight(QWidget):
    """A big coloured disc with the plane's current angle and its limits."""

    def __init__(self, plane: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plane = plane
        self.state = "grey"
        self.value = math.nan
        self.limits = (-20.0, 20.0)
        self.setMinimumSize(150, 150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        # Paints its own background: an update then repaints this widget only, not the window
        # behind it as well.
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def set_reading(self, value: float, state: str, limits: tuple[float, float]) -> None:
        """Repaint only when what is shown changes (whole degrees)."""
        shown = (round(value) if math.isfinite(value) else None, state, limits)
        if shown != (
            round(self.value) if math.isfinite(self.value) else None,
            self.state,
            self.limits,
        ):
            self.value, self.state, self.limits = value, state, limits
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt name)
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window())
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        title_h = max(18, h // 8)
        d = min(w - 10, h - 2 * title_h - 6)
        disc = QRectF((w - d) / 2, title_h + 3, d, d)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(_COLORS[self.state])
        p.drawEllipse(disc)
        p.setPen(QColor(20, 20, 20) if self.state == "amber" else QColor(255, 255, 255))
        f = QFont(self.font())
        f.setBold(True)
        f.setPixelSize(max(12, int(d * 0.28)))
        p.setFont(f)
        text = signed_deg(self.value)
        p.drawText(disc, Qt.AlignmentFlag.AlignCenter, text)
        f.setPixelSize(max(11, int(title_h * 0.8)))
        p.setFont(f)
        p.setPen(self.palette().windowText().color())
        p.drawText(QRectF(0, 0, w, title_h), Qt.AlignmentFlag.AlignCenter, PLANE_TITLES[self.plane])
        f.setBold(False)
        f.setPixelSize(max(10, int(title_h * 0.65)))
        p.setFont(f)
        lo, hi = self.limits
        p.drawText(
            QRectF(0, h - title_h, w, title_h),
            Qt.AlignmentFlag.AlignCenter,
            f"limits {lo:+.0f}° / {hi:+.0f}°",
        )
        p.end()


class StickFigure(QWidget):
    """Side view (sagittal) and back view (frontal) of pelvis, lumbar and thoracic segments.

    Side view: the pelvis tilts forward by ``hip_angle``, the lumbar and thoracic segments lean
    from vertical by their inclinations (+ forward, drawn to the right). Back view: the
    thoracic segment tilts by ``lateral_flexion`` (+ to the wearer's right, which is the
    viewer's right seen from behind).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pose = (0.0, 0.0, 0.0, 0.0)  # thoracic incl, lumbar incl, hip angle, lateral
        self.colors = {"flexion": "grey", "lateral_flexion": "grey"}
        self.setMinimumSize(220, 160)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # as TrafficLight

    def set_pose(
        self,
        thoracic_incl: float,
        lumbar_incl: float,
        hip_angle: float,
        lateral: float,
        colors: dict[str, str],
    ) -> None:
        def finite(v: float) -> float:
            return v if math.isfinite(v) else math.nan

        pose = (finite(thoracic_incl), finite(lumbar_incl), finite(hip_angle), finite(lateral))
        rounded = tuple(round(v) if math.isfinite(v) else None for v in pose)
        old = tuple(round(v) if math.isfinite(v) else None for v in self.pose)
        if rounded != old or colors != self.colors:
            self.pose = pose
            self.colors = dict(colors)
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt name)
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window())
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        seg = min(w / 2, h) * 0.17
        tho, lum, hip, lat = (0.0 if not math.isfinite(v) else v for v in self.pose)
        ink = self.palette().windowText().color()
        f = QFont(self.font())
        f.setPixelSize(max(10, int(h * 0.07)))
        p.setFont(f)
        p.setPen(ink)
        p.drawText(QRectF(0, 0, w / 2, h * 0.1), Qt.AlignmentFlag.AlignCenter, "side")
        p.drawText(QRectF(w / 2, 0, w / 2, h * 0.1), Qt.AlignmentFlag.AlignCenter, "back")

        def line(
            a: QPointF, angle_deg: float, length: float, color: QColor, width: float
        ) -> QPointF:
            r = math.radians(angle_deg)
            b = QPointF(a.x() + length * math.sin(r), a.y() - length * math.cos(r))
            p.setPen(QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
            p.drawLine(a, b)
            return b

        flex_c = _COLORS[self.colors.get("flexion", "grey")]
        lat_c = _COLORS[self.colors.get("lateral_flexion", "grey")]
        thick = max(4.0, seg * 0.12)
        # Side view: hip joint at the centre of the left half, legs straight down.
        hipj = QPointF(w * 0.25, h * 0.62)
        line(hipj, 180.0, seg * 1.6, GREY, thick)
        line(hipj, 90.0 + hip, seg * 0.35, ink, thick)  # pelvis points forward, tilts down
        top_l = line(hipj, lum, seg, flex_c, thick)
        top_t = line(top_l, tho, seg * 1.2, flex_c, thick)
        r = math.radians(tho)
        head = QPointF(top_t.x() + seg * 0.3 * math.sin(r), top_t.y() - seg * 0.3 * math.cos(r))
        p.setPen(QPen(ink, 2))
        p.drawEllipse(head, seg * 0.22, seg * 0.22)
        # Back view: pelvis level, lumbar upright, thoracic tilted by lateral flexion.
        base = QPointF(w * 0.75, h * 0.62)
        p.setPen(QPen(ink, thick, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        p.drawLine(QPointF(base.x() - seg * 0.4, base.y()), QPointF(base.x() + seg * 0.4, base.y()))
        line(QPointF(base.x() - seg * 0.25, base.y()), 180.0, seg * 1.6, GREY, thick)
        line(QPointF(base.x() + seg * 0.25, base.y()), 180.0, seg * 1.6, GREY, thick)
        top_lb = line(base, 0.0, seg, lat_c, thick)
        top_tb = line(top_lb, lat, seg * 1.2, lat_c, thick)
        sh = math.radians(lat)
        dx, dy = seg * 0.5 * math.cos(sh), seg * 0.5 * math.sin(sh)
        p.setPen(QPen(ink, thick, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        p.drawLine(
            QPointF(top_tb.x() - dx, top_tb.y() - dy), QPointF(top_tb.x() + dx, top_tb.y() + dy)
        )
        headb = QPointF(
            top_tb.x() + seg * 0.3 * math.sin(sh), top_tb.y() - seg * 0.3 * math.cos(sh)
        )
        p.setPen(QPen(ink, 2))
        p.drawEllipse(headb, seg * 0.22, seg * 0.22)
        p.end()
