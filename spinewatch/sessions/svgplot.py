"""Inline SVG time plots for the session report (no plotting library, no external resources).

Long recordings are reduced to a min/max envelope per pixel column while streaming through
the stored angle blocks (:class:`Envelope`), so an 8-hour session plots from flat memory and
still shows every peak.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
from numpy.typing import NDArray

from posture.runs import true_runs

W, H = 900, 170  # plot area in px
ML, MR, MT, MB = 48, 10, 8, 22  # margins


class Envelope:
    """Min/max per time bucket of several named series, filled block by block."""

    def __init__(self, t0: float, t1: float, names: Sequence[str], buckets: int = W) -> None:
        self.t0, self.t1 = t0, max(t1, t0 + 1e-9)
        self.n = buckets
        self.lo = {k: np.full(buckets, np.inf) for k in names}
        self.hi = {k: np.full(buckets, -np.inf) for k in names}

    def index(self, t: NDArray[np.float64]) -> NDArray[np.intp]:
        i = ((t - self.t0) / (self.t1 - self.t0) * self.n).astype(np.intp)
        return np.clip(i, 0, self.n - 1)

    def add(self, t: NDArray[np.float64], series: dict[str, NDArray[np.float64]]) -> None:
        idx = self.index(t)
        for k, v in series.items():
            ok = np.isfinite(v)
            np.minimum.at(self.lo[k], idx[ok], v[ok])
            np.maximum.at(self.hi[k], idx[ok], v[ok])

    def runs(self, name: str) -> list[tuple[float, float]]:
        """Time intervals where the series' bucket maximum is > 0.5 (for 0/1 flags)."""
        starts, stops = true_runs(self.hi[name] > 0.5)
        w = (self.t1 - self.t0) / self.n
        return [(self.t0 + a * w, self.t0 + b * w) for a, b in zip(starts, stops, strict=True)]


@dataclass(frozen=True)
class Band:
    """A shaded time interval on a plot (an alert or a time under load)."""

    t0: float
    t1: float
    css: str
    title: str = ""


def _fmt_clock(s: float) -> str:
    s = max(0.0, s)
    h, rest = divmod(int(round(s)), 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def time_plot(
    env: Envelope,
    name: str,
    title: str,
    *,
    limits: Sequence[float] = (),
    bands: Sequence[Band] = (),
    css: str = "line",
) -> str:
    """One SVG plot of a series' envelope, with dashed limit lines and shaded bands."""
    lo, hi = env.lo[name], env.hi[name]
    have = np.isfinite(lo)
    vals = np.concatenate((lo[have], hi[have], np.asarray(limits, float)))
    ymin, ymax = (float(vals.min()), float(vals.max())) if vals.size else (-1.0, 1.0)
    pad = max(1.0, 0.08 * (ymax - ymin))
    ymin, ymax = ymin - pad, ymax + pad
    span = env.t1 - env.t0

    def x(t: float | NDArray[np.float64]) -> NDArray[np.float64]:
        return ML + (np.asarray(t) - env.t0) / span * W

    def y(v: float | NDArray[np.float64]) -> NDArray[np.float64]:
        return MT + (ymax - np.asarray(v)) / (ymax - ymin) * H

    out = [
        f'<svg class="plot" data-series="{escape(name)}" viewBox="0 0 {ML + W + MR} '
        f'{MT + H + MB}" width="100%" role="img" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<rect class="frame" x="{ML}" y="{MT}" width="{W}" height="{H}"/>',
    ]
    for b in bands:
        x0, x1 = float(x(b.t0)), float(x(b.t1))
        out.append(
            f'<rect class="{b.css}" x="{x0:.1f}" y="{MT}" width="{max(1.0, x1 - x0):.1f}" '
            f'height="{H}"><title>{escape(b.title)}</title></rect>'
        )
    for v in (ymin + pad, 0.0, ymax - pad):
        if ymin < v < ymax:
            yy = float(y(v))
            out.append(f'<text class="tick" x="{ML - 4}" y="{yy + 4:.1f}">{v:.0f}</text>')
    for v in limits:
        yy = float(y(v))
        out.append(
            f'<line class="limit" x1="{ML}" x2="{ML + W}" y1="{yy:.1f}" y2="{yy:.1f}">'
            f"<title>limit {v:+.1f}°</title></line>"
        )
    # Min/max envelope: down to the minimum and up to the maximum in each pixel column.
    xs = x(env.t0 + (np.arange(env.n) + 0.5) * span / env.n)
    breaks = np.flatnonzero(np.diff(have.astype(int)) != 0) + 1
    for seg in np.split(np.arange(env.n), breaks):
        if seg.size == 0 or not have[seg[0]]:
            continue
        px = np.repeat(xs[seg], 2)
        py = np.column_stack((y(lo[seg]), y(hi[seg]))).ravel()
        pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True))
        out.append(f'<polyline class="{css}" points="{pts}"/>')
    for frac in np.linspace(0, 1, 7):
        xx = ML + frac * W
        out.append(
            f'<text class="tick" x="{xx:.1f}" y="{MT + H + 16}" text-anchor="middle">'
            f"{_fmt_clock(frac * span)}</text>"
        )
    out.append("</svg>")
    return "\n".join(out)
