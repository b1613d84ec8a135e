"""Scrolling graphs of flexion, lateral flexion and rotation with neutral line and limit band.

The x axis is seconds before the newest sample, over a fixed range (``-window … 0``), and the y
ranges are fixed too, so a frame only replaces curve data: no autoscaling, no re-ticking.
Width-1 pens keep a 30 s window at 200 Hz cheap to draw, and each frame hands pyqtgraph at most
two points per pixel column (:func:`peak_decimate`: the lowest and highest sample of the column,
so no excursion is hidden), with its finite check skipped when the points are all finite. The
load shading is opaque, pre-blended with the white background: it looks the same as a
translucent band but costs no alpha blending in a software-rendered frame. The axes are cached
as pixmaps (their ticks reach into the plot area, so every frame's dirty region would otherwise
re-play them): profiled, that cuts the frame's paint time by roughly a tenth. (The view's
DontSavePainterState flag would save as much again but leaks one item's painter state into the
next: the limit band then draws as a wedge.)
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QWidget

from gui.gauges import PLANE_TITLES
from posture.thresholds import PLANES

F64 = NDArray[np.float64]
Y_RANGES = {"flexion": (-40.0, 70.0), "lateral_flexion": (-35.0, 35.0), "rotation": (-35.0, 35.0)}
CURVE_COLOR = (30, 100, 200)
LOAD_COLOR = (230, 120, 0)
LOAD_ALPHA = 45
#: LOAD_COLOR at LOAD_ALPHA over white, drawn opaque (same look, no blending per frame).
LOAD_FILL = tuple(round(255 + (c - 255) * LOAD_ALPHA / 255) for c in LOAD_COLOR)


class AngleGraphs(pg.GraphicsLayoutWidget):
    """Three stacked plots sharing the time axis.

    Attributes:
        curves: plane → the angle curve (``xData`` = s before the newest sample, ``yData`` deg;
            at most two points per pixel column, see :func:`peak_decimate`).
        shown: plane → the full ``(x, y)`` behind the curve (s before now, deg), undecimated.
        load_regions: plane → pool of shaded bands marking the stretches under load.
    """

    MAX_LOAD_REGIONS = 12

    def __init__(self, window_s: float = 30.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.window_s = float(window_s)
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.load_regions: dict[str, list[QGraphicsRectItem]] = {}
        self.bands: dict[str, pg.LinearRegionItem] = {}
        self.limit_lines: dict[str, tuple[pg.InfiniteLine, pg.InfiniteLine]] = {}
        self.shown: dict[str, tuple[F64, F64]] = {}
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
            # Decimated here, once per frame, to the pixel width (cheaper than pyqtgraph's own
            # clip-to-view and auto downsampling, which re-scan the data for bounds).
            curve = p.plot(pen=pg.mkPen(CURVE_COLOR, width=1))
            regions = []
            for _ in range(self.MAX_LOAD_REGIONS):
                # Plain Qt rectangles: moving them every frame costs far less than regions.
                r = QGraphicsRectItem(0.0, 0.0, 0.0, 0.0)
                r.setBrush(pg.mkBrush(*LOAD_FILL))
                r.setPen(pg.mkPen(None))
                r.setZValue(-20)
                r.hide()
                p.addItem(r, ignoreBounds=True)
                regions.append(r)
            self.plots[plane] = p
            self.curves[plane] = curve
            self.load_regions[plane] = regions
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
            for plane, c in self.curves.items():
                c.setData([], [])
                self.shown[plane] = (np.zeros(0), np.zeros(0))
            self._show_load(np.zeros((0, 2)))
            return
        x = t - (t[-1] if t_now is None else t_now)
        for j, plane in enumerate(PLANES):
            y = planes[:, j]
            self.shown[plane] = (x, y)
            width = int(self.plots[plane].vb.width())
            xd, yd = peak_decimate(x, y, width) if width > 0 else (x, y)
            self.curves[plane].setData(xd, yd, skipFiniteCheck=bool(np.isfinite(yd).all()))
        self._show_load(load_spans(x, under_load > 0.5)[-self.MAX_LOAD_REGIONS :])

    def _show_load(self, spans: F64) -> None:
        for plane in PLANES:
            lo, hi = Y_RANGES[plane]
            for k, r in enumerate(self.load_regions[plane]):
                if k < len(spans):
                    r.setRect(spans[k, 0], lo, spans[k, 1] - spans[k, 0], hi - lo)
                    if not r.isVisible():
                        r.show()
                elif r.isVisible():
                    r.hide()

    def load_spans(self) -> list[tuple[float, float]]:
        """The under-load stretches currently shaded, (start, end) in s before now."""
        rects = [r.rect() for r in self.load_regions[PLANES[0]] if r.isVisible()]
        return [(rc.left(), rc.right()) for rc in rects]


def peak_decimate(x: F64, y: F64, columns: int) -> tuple[F64, F64]:
    """At most two points per column: each column's lowest and highest sample, in time order.

    The samples are split into at most ``columns`` equal runs counted back from the newest (the
    oldest few that do not fill a run are dropped: they sit at the window's left edge). Arrays of at
    most ``2 * columns`` samples are returned unchanged. NaN samples are ignored within a
    column; an all-NaN column gives NaN (a gap in the line). The newest sample is always the
    last point, so the line reaches the right edge.

    Args:
        x, y: shape ``(N,)``.
        columns: pixel columns of the plot.

    Returns:
        ``(x, y)`` decimated, at most ``2 * columns + 1`` points.
    """
    n = x.size
    columns = max(columns, 1)
    if n <= 2 * columns:
        return x, y
    k = -(-n // columns)  # samples per column: at most `columns` full columns
    m = (n // k) * k
    xs = x[n - m :].reshape(-1, k)
    ys = y[n - m :].reshape(-1, k)
    finite = np.isfinite(ys)
    lo = np.where(finite, ys, np.inf).argmin(axis=1)
    hi = np.where(finite, ys, -np.inf).argmax(axis=1)
    first, second = np.minimum(lo, hi), np.maximum(lo, hi)
    rows = np.arange(xs.shape[0])
    xo = np.empty(2 * xs.shape[0])
    yo = np.empty(2 * xs.shape[0])
    xo[0::2], xo[1::2] = xs[rows, first], xs[rows, second]
    yo[0::2], yo[1::2] = ys[rows, first], ys[rows, second]
    if xo[-1] != x[-1]:  # the line always reaches the newest sample (the gauges show it)
        xo, yo = np.append(xo, x[-1]), np.append(yo, y[-1])
    return xo, yo


def load_spans(x: F64, loaded: NDArray[np.bool_]) -> F64:
    """Start and end ``x`` of each run of ``loaded`` samples, shape ``(K, 2)``."""
    d = np.diff(np.concatenate(([0], loaded.astype(np.int8), [0])))
    starts = np.flatnonzero(d == 1)
    stops = np.flatnonzero(d == -1) - 1
    return np.column_stack((x[starts], x[stops]))
