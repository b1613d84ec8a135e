"""The live graphs' strip charts: incremental frames equal a full redraw, nothing hidden."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gui.strip_chart import CURVE_COLOR, LOAD_ALPHA, LOAD_COLOR, LOAD_FILL, StripChart

W, H, WINDOW = 300, 90, 6.0  # dt = 20 ms per column: 4 samples per column at 200 Hz
Y_RANGE = (-40.0, 70.0)
BAND = (-15.0, 12.0)


def rgb(chart: StripChart) -> np.ndarray:
    """The image's pixels as ``(H, W)`` 0xRRGGBB."""
    img = chart.image
    a = np.frombuffer(img.constBits(), np.uint32).reshape(img.height(), -1)
    return a[:, : img.width()] & 0xFFFFFF


def curve_mask(chart: StripChart) -> np.ndarray:
    r, g, b = CURVE_COLOR
    return rgb(chart) == (r << 16 | g << 8 | b)


def near(mask: np.ndarray) -> np.ndarray:
    """Pixels within one pixel (8-neighbourhood) of a set pixel."""
    p = np.pad(mask, 1)
    out = np.zeros_like(mask)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            out |= p[dy : dy + mask.shape[0], dx : dx + mask.shape[1]]
    return out


def signal(seed: int, n: int, nan_share: float) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    t = 1000.0 + np.arange(n) / 200.0  # source time need not start at 0
    y = 50 * np.sin(t * rng.uniform(0.5, 5)) + 15 + rng.normal(0, 3, n)  # leaves the range too
    y[rng.random(n) < nan_share] = np.nan
    loaded = (np.sin(t * rng.uniform(0.5, 3)) > 0.3).astype(float) > 0.5
    return t, y, loaded


def full(t, y, loaded, t_edge) -> StripChart:
    c = StripChart(Y_RANGE)
    c.configure(W, H, WINDOW, BAND)
    keep = t >= t_edge - WINDOW
    assert c.show(t[keep], y[keep], loaded[keep], t_edge) is None  # a full redraw
    return c


@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    nan_share=st.sampled_from([0.0, 0.0, 0.02, 0.3]),
    chunk=st.integers(1, 12),
)
def test_incremental_frames_equal_a_full_redraw(
    qapp, seed: int, nan_share: float, chunk: int
) -> None:
    t, y, loaded = signal(seed, 2300, nan_share)
    rng = np.random.default_rng(seed + 1)
    c = StripChart(Y_RANGE)
    c.configure(W, H, WINDOW, BAND)
    n = 1300
    scrolled = partial = 0
    while n < len(t):
        n = min(n + int(rng.integers(0, chunk + 1)), len(t))
        t_edge = t[n - 1] + rng.uniform(0.0, 0.05)  # the edge runs ahead between packets
        keep = t[:n] >= t_edge - WINDOW
        first = c.show(t[:n][keep], y[:n][keep], loaded[:n][keep], t_edge)
        if first is None:
            scrolled += 1
        else:
            partial += 1
            assert first >= W - 6  # only the newest columns (the edge may lead by 50 ms)
    assert scrolled > 5 and partial > 5  # both kinds of frame were exercised
    ref = full(t[:n], y[:n], loaded[:n], t_edge)
    got, want = rgb(c), rgb(ref)
    diff = got != want
    diff[:, :2] = False  # the left edge: the full redraw lacks the segment from older samples
    # Only where a clipped line is rasterised one pixel differently: next to the curve.
    assert diff.sum() <= 0.002 * W * H, diff.sum()
    assert np.all(near(curve_mask(ref))[diff] | near(curve_mask(c))[diff])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), nan_share=st.sampled_from([0.0, 0.1, 0.5]))
def test_every_sample_is_drawn(qapp, seed: int, nan_share: float) -> None:
    """No decimation: each finite sample joined to a finite neighbour shows in its pixel."""
    t, y, loaded = signal(seed, 1500, nan_share)
    c = full(t, y, loaded, t[-1])
    keep = t >= t[-1] - WINDOW
    t, y = t[keep], y[keep]
    fin = np.isfinite(y)
    x_px = (t - t[-1]) / (WINDOW / W) + W
    y_px = (Y_RANGE[1] - y) * H / (Y_RANGE[1] - Y_RANGE[0])
    col, row = np.floor(x_px).astype(int), np.floor(y_px)
    # Joined to a finite neighbour a pixel or more away (Qt draws no line within a pixel).
    moves = fin[1:] & fin[:-1] & (np.hypot(np.diff(x_px), np.diff(y_px)) >= 1.0)
    joined = np.r_[False, moves] | np.r_[moves, False]
    inside = joined & (row >= 1) & (row < H - 1) & (col >= 1) & (col < W)
    assert inside.sum() > 10
    around = near(curve_mask(c))
    assert np.all(around[row[inside].astype(int), col[inside]])


def test_shading_band_and_edge(qapp) -> None:
    t = 50.0 + np.arange(1200) / 200.0
    y = np.full(t.size, 40.0)  # well above the band
    loaded = (t > 53.0) & (t < 54.0)
    c = full(t, y, loaded, t[-1])
    px = rgb(c)
    dt = WINDOW / W
    col_loaded = int((53.5 - t[-1]) / dt + W)
    col_free = int((55.0 - t[-1]) / dt + W)
    bottom = H - 2  # below the band, away from the curve
    band_row = int((Y_RANGE[1] - 0.5 * (BAND[0] + BAND[1])) * H / (Y_RANGE[1] - Y_RANGE[0]))
    r, g, b = LOAD_FILL
    assert px[bottom, col_loaded] == (r << 16 | g << 8 | b)
    assert px[bottom, col_free] == 0xFFFFFF
    band_free = px[band_row + 3, col_free]
    assert band_free != 0xFFFFFF and (band_free >> 8 & 0xFF) > (band_free >> 16 & 0xFF)  # green
    assert px[band_row + 3, col_loaded] not in (band_free, px[bottom, col_loaded])  # both
    # The same data again with the edge a few columns on: a scroll, then a repaint of the head.
    assert c.show(t, y, loaded, t[-1] + 3 * dt) is None
    assert np.array_equal(rgb(c)[:, : W - 4], px[:, 3 : W - 1])
    assert c.show(t, y, loaded, t[-1] + 3 * dt) is not None  # nothing scrolled


def test_load_fill_is_the_translucent_colour_over_white() -> None:
    a = LOAD_ALPHA / 255
    for c, f in zip(LOAD_COLOR, LOAD_FILL, strict=True):
        assert abs(f - (a * c + (1 - a) * 255)) <= 0.5


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 64),
    nan_share=st.sampled_from([0.0, 0.0, 0.2]),
)
def test_few_point_curve_rasterises_as_pyqtgraphs_path(
    qapp, seed: int, n: int, nan_share: float
) -> None:
    """A frame's few new points are drawn without pyqtgraph's path builder: same pixels."""
    import pyqtgraph as pg
    from PySide6.QtGui import QImage, QPainter, QPen

    from gui.strip_chart import BACKGROUND, _draw_few

    rng = np.random.default_rng(seed)
    xs = np.sort(rng.uniform(-2.0, W + 2.0, n))
    ys = rng.uniform(-3.0, H + 3.0, n)
    ys[rng.random(n) < nan_share] = np.nan
    images = []
    for ours in (True, False):
        img = QImage(W, H, QImage.Format.Format_RGB32)
        img.fill(BACKGROUND)
        p = QPainter(img)
        pen = QPen(BACKGROUND.darker(300), 1)
        pen.setCosmetic(True)
        p.setPen(pen)
        if not (ours and _draw_few(p, xs.tolist(), ys.tolist())):
            p.drawPath(pg.arrayToQPath(xs, ys, connect="finite"))
        p.end()
        images.append(np.frombuffer(img.constBits(), np.uint32).copy())
    assert np.array_equal(images[0], images[1])


def test_scroll_moves_every_row_by_whole_pixels(qapp) -> None:
    c = StripChart(Y_RANGE)
    c.configure(W, H, WINDOW, BAND)
    rng = np.random.default_rng(5)
    px = np.frombuffer(c.image.bits(), np.uint32).reshape(H, -1)
    px[:] = rng.integers(0, 2**24, px.shape, dtype=np.uint32)
    before = rgb(c).copy()
    c._scroll(7)
    assert np.array_equal(rgb(c)[:, : W - 7], before[:, 7:])


def test_graphs_show_nothing_after_no_data(qapp) -> None:
    """Empty data (a new source, nothing yet) blanks every strip instead of keeping the old
    picture."""
    from gui.graphs import AngleGraphs

    g = AngleGraphs(window_s=6.0)
    g.resize(600, 500)
    g.show()
    qapp.processEvents()
    t = 100.0 + np.arange(1200) / 200.0
    planes = np.column_stack([30 * np.sin(t), 10 * np.cos(t), 5 * np.sin(2 * t)])
    g.show_data(t, planes, (t > 102.0).astype(float))
    assert all((rgb(s) != 0xFFFFFF).any() for s in g.strips.values())
    g.show_data(np.zeros(0), np.zeros((0, 3)), np.zeros(0))
    assert all((rgb(s) == 0xFFFFFF).all() for s in g.strips.values())
    assert all(x.size == 0 for x, _ in g.shown.values())
    g.close()
