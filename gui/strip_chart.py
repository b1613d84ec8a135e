"""Incremental strip-chart rendering: scroll the plot area's old pixels, paint only the new ones.

A live graph whose x range scrolls changes every pixel of its plot area each frame, so drawing
it as scene items (curve, bands, shading) makes Qt's software raster repaint the whole area
from scratch 60 times a second. :class:`StripChart` keeps the plot area as an image instead.
Its columns sit on a fixed grid of source time (column width ``dt = window / width``, the
right edge at a whole multiple of ``dt``), so when the edge moves on by ``k`` columns the image
is shifted left by ``k`` pixels (one memmove) and only the columns from the previously newest
sample to the edge are painted again: load shading, the translucent limit band, the neutral
line and every sample of the curve (no decimation: a few columns hold a few samples). The
look is that of the scene-item chart: a frame's image equals a full redraw of the same data
except at single pixels where a clipped line is rasterised one pixel differently (tested).

:class:`StripItem` shows the image inside a pyqtgraph ViewBox (axes and layout stay
pyqtgraph's), drawn 1:1 onto device pixels: a blit, no resampling.
"""

from __future__ import annotations

import ctypes
import math

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QPolygonF, QTransform
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

F64 = NDArray[np.float64]
BACKGROUND = QColor(255, 255, 255)
CURVE_COLOR = (30, 100, 200)
NEUTRAL_COLOR = (80, 80, 80)
BAND_COLOR = (40, 170, 70, 40)
LOAD_COLOR = (230, 120, 0)
LOAD_ALPHA = 45
#: LOAD_COLOR at LOAD_ALPHA over white, drawn opaque (same look, no blending).
LOAD_FILL = tuple(round(255 + (c - 255) * LOAD_ALPHA / 255) for c in LOAD_COLOR)


class StripChart:
    """The pixels of one plot area, ``width`` × ``height`` device pixels.

    Column ``c`` shows source time ``[E - (width - c) dt, E - (width - c - 1) dt)``, where the
    right edge ``E`` is a whole multiple of ``dt = window_s / width``; row 0 is ``y_range[1]``.

    Args:
        y_range: (low, high) of the y axis, deg.
    """

    def __init__(self, y_range: tuple[float, float]) -> None:
        self.y_lo, self.y_hi = float(y_range[0]), float(y_range[1])
        self.image = QImage()
        self.window_s = 30.0
        self.band = (-20.0, 20.0)
        self._edge: int | None = None  # E / dt of the image, None: no valid image
        self._t_last = -math.inf  # the newest sample painted, s
        self._curve_pen = QPen(QColor(*CURVE_COLOR), 1)
        self._neutral_pen = QPen(QColor(*NEUTRAL_COLOR), 1)
        for pen in (self._curve_pen, self._neutral_pen):
            pen.setCosmetic(True)

    @property
    def width(self) -> int:
        return self.image.width()

    @property
    def height(self) -> int:
        return self.image.height()

    def configure(
        self, width: int, height: int, window_s: float, band: tuple[float, float]
    ) -> bool:
        """Set size (device pixels), window (s) and limit band (deg); True if anything changed
        (the next :meth:`show` then redraws in full)."""
        width, height = max(int(width), 0), max(int(height), 0)
        band = (float(band[0]), float(band[1]))
        if (width, height, float(window_s), band) == (
            self.width,
            self.height,
            self.window_s,
            self.band,
        ):
            return False
        if (width, height) != (self.width, self.height):
            self.image = QImage(width, height, QImage.Format.Format_RGB32)
            self.image.fill(BACKGROUND)
        self.window_s, self.band = float(window_s), band
        self._edge = None
        return True

    def invalidate(self) -> None:
        """Redraw in full at the next :meth:`show`."""
        self._edge = None

    def show(self, t: F64, y: F64, loaded: NDArray[np.bool_], t_edge: float) -> int | None:
        """Bring the image to samples ``t`` (s, ascending) / ``y`` (deg) / ``loaded`` (all
        ``(N,)``, N ≥ 1) with the right edge at ``t_edge`` (s).

        Returns:
            None when every pixel may have changed (scrolled or redrawn), else the first
            column that was repainted (the columns right of it changed, the others did not).
        """
        w = self.width
        if w < 1 or self.height < 1:
            return None
        dt = self.window_s / w
        edge = math.ceil(t_edge / dt - 1e-9)
        t_new = float(t[-1])
        old = self._edge
        if old is None or edge < old or edge - old >= w or t_new < self._t_last:
            first, whole = 0, True
        else:
            k = edge - old
            if k:
                self._scroll(k)
            # From the column of the newest sample painted (a line's pixels reach one column
            # further back), or the columns the scroll uncovered.
            px_last = w - (edge * dt - self._t_last) / dt
            first, whole = max(0, min(math.floor(px_last) - 1, w - k)), k > 0
        self._paint(first, t, y, loaded, edge)
        self._edge, self._t_last = edge, t_new
        return None if whole else first

    def clear(self) -> None:
        self.image.fill(BACKGROUND)
        self._edge, self._t_last = None, -math.inf

    def _scroll(self, k: int) -> None:
        """Shift the pixels ``k`` columns to the left (the right ``k`` columns are stale).

        One memmove of the whole buffer by ``k`` pixels: each row's right ``k`` columns take
        the next row's first pixels, which are stale anyway. (numpy's assignment between
        overlapping views goes through a temporary copy: three times slower.)
        """
        buf = np.frombuffer(self.image.bits(), np.uint8)
        addr, shift = buf.ctypes.data, 4 * k
        ctypes.memmove(addr, addr + shift, buf.size - shift)

    def _row(self, value: float) -> float:
        return (self.y_hi - value) * self.height / (self.y_hi - self.y_lo)

    def _paint(self, first: int, t: F64, y: F64, loaded: NDArray[np.bool_], edge: int) -> None:
        w, h = self.width, self.height
        dt = self.window_s / w
        # Samples from the one before column first - 1 on: the segment into the strip.
        i0 = max(int(np.searchsorted(t, (edge - (w - first + 1)) * dt)) - 1, 0)
        px = (t[i0:] / dt - edge) + w  # pixel x of each sample
        lo = loaded[i0:]
        p = QPainter(self.image)
        try:
            p.setClipRect(first, 0, w - first, h)
            p.fillRect(first, 0, w - first, h, BACKGROUND)
            # A frame's few new samples are mostly all loaded or all not: no run finding then.
            if lo.all():
                p.fillRect(QRectF(px[0], 0.0, px[-1] - px[0], h), _LOAD_FILL)
            elif lo.any():
                d = np.diff(lo, prepend=False, append=False).nonzero()[0]
                for s, e in zip(d[::2].tolist(), (d[1::2] - 1).tolist(), strict=True):
                    p.fillRect(QRectF(px[s], 0.0, px[e] - px[s], h), _LOAD_FILL)
            top, bottom = self._row(self.band[1]), self._row(self.band[0])
            p.fillRect(QRectF(first, top, w - first, bottom - top), _BAND)
            p.setPen(self._neutral_pen)
            zero = self._row(0.0)
            p.drawLine(QPointF(first, zero), QPointF(w, zero))
            p.setPen(self._curve_pen)
            rows = (self.y_hi - y[i0:]) * (h / (self.y_hi - self.y_lo))
            n = px.size
            if n >= 2 and not (n <= SMALL_CURVE and _draw_few(p, px.tolist(), rows.tolist())):
                p.drawPath(pg.arrayToQPath(px, rows, connect="finite"))
        finally:
            p.end()


#: Up to this many points a frame's new curve piece is built point by point in Python: a live
#: frame adds a few samples, for which pyqtgraph's path builder costs more than the drawing.
SMALL_CURVE = 64
_LOAD_FILL = QColor(*LOAD_FILL)
_BAND = QColor(*BAND_COLOR)


def _draw_few(p: QPainter, xs: list[float], ys: list[float]) -> bool:
    """Draw the points (pixels) as ``arrayToQPath`` would, when all are finite: one polygon
    path (False, nothing drawn, when a value is not finite)."""
    if not all(map(math.isfinite, xs)) or not all(map(math.isfinite, ys)):
        return False
    path = QPainterPath()
    path.addPolygon(QPolygonF([QPointF(x, y) for x, y in zip(xs, ys, strict=True)]))
    p.drawPath(path)
    return True


class StripItem(QGraphicsItem):
    """Shows a :class:`StripChart`'s image at its parent's origin, one image pixel per device
    pixel (the parent is a ViewBox, whose local units are logical pixels)."""

    def __init__(self, chart: StripChart, parent: QGraphicsItem | None = None) -> None:
        super().__init__()
        self.chart = chart
        self.dpr = 1.0  # device pixels per logical pixel
        if parent is not None:  # only now: Qt asks for the bounding rect on parenting
            self.setParentItem(parent)

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt name)
        return QRectF(0.0, 0.0, self.chart.width / self.dpr, self.chart.height / self.dpr)

    def resized(self) -> None:
        self.prepareGeometryChange()

    def changed(self, first: int | None) -> None:
        """Schedule a repaint of the columns from ``first`` (None: all)."""
        if first is None:
            self.update()
        else:
            x = first / self.dpr
            self.update(
                QRectF(x, 0.0, self.chart.width / self.dpr - x, self.chart.height / self.dpr)
            )

    def paint(
        self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        img = self.chart.image
        if img.isNull():
            return
        tr = p.deviceTransform()
        if tr.type().value <= QTransform.TransformationType.TxTranslate.value:
            # A blit onto whole device pixels: no resampling, and Qt's fastest path.
            dx, dy = tr.dx(), tr.dy()
            p.drawImage(QPointF(round(dx) - dx, round(dy) - dy), img)
        else:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            p.drawImage(self.boundingRect(), img)
