"""Scrolling graphs of flexion, lateral flexion and rotation with neutral line and limit band.

The x axis is seconds before the newest sample, over a fixed range (``-window … 0``), and the y
ranges are fixed too, so a frame only replaces curve data: no autoscaling, no re-ticking.
Width-1 pens, clip-to-view and peak downsampling keep a 30 s window at 200 Hz cheap to draw.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from gui.gauges import PLANE_TITLES
from posture.thresholds import PLANES

F64 = NDArray[np.float64]
Y_RANGES = {"flexion": (-40.0, 70.0), "lateral_flexion": (-35.0, 35.0), "rotation": (-35.0, 35.0)}
CURVE_COLOR = (30, 100, 200)
LOAD_COLOR = (230, 120, 0)


class AngleGraphs(pg.GraphicsLayoutWidget):
    """Three stacked plots sharing the time axis.

    Attributes:
        curves: plane → the angle curve (``xData`` = s before the newest sample, ``yData`` deg).
        load_curves: plane → the same angle drawn only where the spine is under load.
    """

    def __init__(self, window_s: float = 30.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.window_s = float(window_s)
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.load_curves: dict[str, pg.PlotDataItem] = {}
        self.bands: dict[str, pg.LinearRegionItem] = {}
        self.limit_lines: dict[str, tuple[pg.InfiniteLine, pg.InfiniteLine]] = {}
        for i, plane in enumerate(PLANES):
            p = self.addPlot(row=i, col=0)
            p.setMenuEnabled(False)
            p.setMouseEnabled(x=False, y=False)
            p.hideButtons()
            p.setLabel("left", f"{PLANE_TITLES[plane]} (°)")
            p.showGrid(x=True, y=False, alpha=0.15)
            p.setYRange(*Y_RANGES[plane], padding=0)
            p.setXRange(-self.window_s, 0, padding=0)
            p.disableAutoRange()
            if i < len(PLANES) - 1:
                p.getAxis("bottom").setStyle(showValues=False)
            else:
                p.setLabel("bottom", "seconds ago")
            band = pg.LinearRegionItem(
                (-20, 20),
                orientation="horizontal",
                movable=False,
                brush=pg.mkBrush(40, 170, 70, 40),
                pen=pg.mkPen(None),
            )
            band.setZValue(-10)
            p.addItem(band)
            lo_line = pg.InfiniteLine(
                angle=0, pen=pg.mkPen(215, 35, 35, width=1, style=Qt.PenStyle.DashLine)
            )
            hi_line = pg.InfiniteLine(
                angle=0, pen=pg.mkPen(215, 35, 35, width=1, style=Qt.PenStyle.DashLine)
            )
            p.addItem(lo_line)
            p.addItem(hi_line)
            p.addItem(pg.InfiniteLine(pos=0.0, angle=0, pen=pg.mkPen(80, 80, 80, width=1)))
            curve = p.plot(pen=pg.mkPen(CURVE_COLOR, width=1))
            load = p.plot(pen=pg.mkPen(LOAD_COLOR, width=1), connect="finite")
            for c in (curve, load):
                c.setClipToView(True)
                c.setDownsampling(auto=True, method="peak")
            self.plots[plane] = p
            self.curves[plane] = curve
            self.load_curves[plane] = load
            self.bands[plane] = band
            self.limit_lines[plane] = (lo_line, hi_line)

    def set_window(self, window_s: float) -> None:
        self.window_s = float(window_s)
        for p in self.plots.values():
            p.setXRange(-self.window_s, 0, padding=0)

    def set_limits(self, limits: dict[str, tuple[float, float]]) -> None:
        """Draw each plane's alert band (green inside, dashed red limits)."""
        for plane, (lo, hi) in limits.items():
            if plane in self.bands:
                self.bands[plane].setRegion((lo, hi))
                self.limit_lines[plane][0].setValue(lo)
                self.limit_lines[plane][1].setValue(hi)

    def show_data(self, t: F64, planes: F64, under_load: F64, t_now: float | None = None) -> None:
        """Draw ``t`` (s, source time), ``planes`` ``(N, 3)`` deg and the load flag ``(N,)``.

        ``t_now`` is the time at the right edge (default: the newest sample).
        """
        if t.size == 0:
            for c in (*self.curves.values(), *self.load_curves.values()):
                c.setData([], [])
            return
        x = t - (t[-1] if t_now is None else t_now)
        loaded = under_load > 0.5
        for j, plane in enumerate(PLANES):
            y = planes[:, j]
            self.curves[plane].setData(x, y)
            self.load_curves[plane].setData(x, np.where(loaded, y, np.nan))
