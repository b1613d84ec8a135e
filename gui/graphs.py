"""Scrolling graphs of flexion, lateral flexion and rotation with neutral line and limit band.

The x axis is seconds before the newest sample, over a fixed range (``-window … 0``), and the y
ranges are fixed too, so the axes never re-tick (they are cached as pixmaps). The plot areas
are strip charts (:mod:`gui.strip_chart`): each keeps its pixels as an image, scrolls it as time
moves on and paints only the newest columns (load shading, limit band, neutral line, every
sample of the curve), so a frame costs a blit instead of a software raster of the whole
area. Only the dashed limit lines stay scene items over the image: they stand still on screen
while the chart scrolls under them.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsItem, QGraphicsLineItem, QGraphicsView, QWidget

from gui.gauges import PLANE_TITLES
from gui.strip_chart import StripChart, StripItem
from posture.thresholds import PLANES

F64 = NDArray[np.float64]
Y_RANGES = {"flexion": (-40.0, 70.0), "lateral_flexion": (-35.0, 35.0), "rotation": (-35.0, 35.0)}


class AngleGraphs(pg.GraphicsLayoutWidget):
    """Three stacked plots sharing the time axis.

    Attributes:
        strips: plane → the plot area's strip chart (its ``image`` is what is shown).
        shown: plane → the ``(x, y)`` behind the chart (s before the right edge, deg).
        limits: plane → the alert band (low, high), deg.
        limit_lines: plane → the dashed red lines at the band's edges.
    """

    def __init__(self, window_s: float = 30.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        # pyqtgraph caches the view's background as a pixmap and blits it under every exposed
        # region before the items are drawn (the strips then cover it); Qt's raster engine
        # hands such large blits to its thread pool (wake-ups and a second core's time). A
        # plain fill of the white background costs less: about 10 % of a frame's CPU (profiled).
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheNone)
        self.window_s = float(window_s)
        self.plots: dict[str, pg.PlotItem] = {}
        self.strips: dict[str, StripChart] = {}
        self.items: dict[str, StripItem] = {}
        self.limits: dict[str, tuple[float, float]] = dict.fromkeys(PLANES, (-20.0, 20.0))
        self.limit_lines: dict[str, tuple[QGraphicsLineItem, QGraphicsLineItem]] = {}
        self.shown: dict[str, tuple[F64, F64]] = {}
        self._last: tuple[F64, F64, F64, float] | None = None  # the last show_data arguments
        self.scrolls = 0  # frames that moved the charts by whole pixels (or redrew them)
        for i, plane in enumerate(PLANES):
            p = self.addPlot(row=i, col=0)
            p.setMenuEnabled(False)
            p.setMouseEnabled(x=False, y=False)
            p.hideButtons()
            p.setLabel("left", f"{PLANE_TITLES[plane]} (°)")
            # no grid: grid lines belong to the axes, which would then repaint every frame
            p.setYRange(*Y_RANGES[plane], padding=0)
            p.setXRange(-self.window_s, 0, padding=0)
            p.disableAutoRange()
            for side in ("left", "bottom"):
                # Fixed ranges: the axis pixmap is redrawn only on resize or a new window.
                p.getAxis(side).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            if i < len(PLANES) - 1:
                p.getAxis("bottom").setStyle(showValues=False)
            else:
                p.setLabel("bottom", "seconds ago")
            # Plain Qt lines (painted in C++, unlike pyqtgraph's InfiniteLine) across the window.
            pen = pg.mkPen(215, 35, 35, width=1, style=Qt.PenStyle.DashLine)
            lines = (QGraphicsLineItem(), QGraphicsLineItem())
            for line in lines:
                line.setPen(pen)
                p.addItem(line, ignoreBounds=True)
            strip = StripChart(Y_RANGES[plane])
            item = StripItem(strip, p.vb)  # under the view's items (z), over its background
            item.setZValue(-1e5)
            p.vb.sigResized.connect(self._resized)
            self.plots[plane] = p
            self.strips[plane] = strip
            self.items[plane] = item
            self.limit_lines[plane] = lines
        self._place_lines()

    def set_window(self, window_s: float) -> None:
        self.window_s = float(window_s)
        for p in self.plots.values():
            p.setXRange(-self.window_s, 0, padding=0)
        self._place_lines()
        self._resized()

    def set_limits(self, limits: dict[str, tuple[float, float]]) -> None:
        """Draw each plane's alert band (green inside, dashed red limits)."""
        for plane, (lo, hi) in limits.items():
            if plane in self.plots:
                self.limits[plane] = (float(lo), float(hi))
        self._place_lines()
        self._resized()

    def _place_lines(self) -> None:
        for plane, (lo, hi) in self.limits.items():
            for line, y in zip(self.limit_lines[plane], (lo, hi), strict=True):
                line.setLine(-self.window_s, y, 0.0, y)

    def _sync_geometry(self) -> bool:
        """Size each strip to its plot area in device pixels; True if any changed."""
        dpr = self.devicePixelRatioF()
        changed = False
        for plane, strip in self.strips.items():
            vb = self.plots[plane].vb
            w, h = round(vb.width() * dpr), round(vb.height() * dpr)
            if strip.configure(w, h, self.window_s, self.limits[plane]):
                item = self.items[plane]
                item.dpr = dpr
                item.resized()
                changed = True
        return changed

    def _resized(self) -> None:
        if self._sync_geometry() and self._last is not None:
            self.show_data(*self._last[:3], t_now=self._last[3])

    def show_data(self, t: F64, planes: F64, under_load: F64, t_now: float | None = None) -> None:
        """Draw ``t`` (s, source time), ``planes`` ``(N, 3)`` deg and the load flag ``(N,)``.

        ``t_now`` is the time at the right edge (default: the newest sample).
        """
        self._sync_geometry()
        if t.size == 0:
            self._last = None
            for plane, strip in self.strips.items():
                strip.clear()
                self.items[plane].changed(None)
                self.shown[plane] = (np.zeros(0), np.zeros(0))
            return
        t_edge = float(t[-1] if t_now is None else t_now)
        self._last = (t, planes, under_load, t_edge)
        x = t - t_edge
        loaded = under_load > 0.5
        for j, plane in enumerate(PLANES):
            y = planes[:, j]
            self.shown[plane] = (x, y)
            first = self.strips[plane].show(t, y, loaded, t_edge)
            self.items[plane].changed(first)
        self.scrolls += first is None
