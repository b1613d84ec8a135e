"""Progress over sessions and weeks: per-drill score trends from the progress store.

The score of a set is its drill's 0–100 score (clean reps, or time in the neutral band for
holds); alongside it the hip share, the largest lumbar deviation and the rotation share. The
trend is the least-squares slope of the score per week. Output: a terminal table and an HTML
page with one SVG plot per drill (no plotting library, no external resources).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path

import numpy as np

from posture.drills import PROGRAM, get_spec
from spinewatch.coach.store import SetRecord


@dataclass(frozen=True)
class Trend:
    """One drill's history: per set (time, score...) and per ISO week the mean score."""

    drill: str
    times: tuple[datetime, ...]
    scores: tuple[float, ...]
    hip_share: tuple[float, ...]
    deviation: tuple[float, ...]
    rotation_share: tuple[float, ...]
    weeks: tuple[tuple[str, float], ...]  # ("2026-W02", mean score)
    slope_per_week: float  # score points per week (NaN with under two weeks of data)

    @property
    def first(self) -> float:
        return self.weeks[0][1] if self.weeks else math.nan

    @property
    def last(self) -> float:
        return self.weeks[-1][1] if self.weeks else math.nan


def _num(v: object) -> float:
    return float(v) if isinstance(v, int | float) else math.nan


def trends(records: Sequence[SetRecord], drill: str | None = None) -> list[Trend]:
    """Per drill (programme order), its trend over the stored sets."""
    out = []
    for name in PROGRAM:
        if drill is not None and name != drill:
            continue
        rs = sorted((r for r in records if r.drill == name), key=lambda r: r.when)
        if not rs:
            continue
        times = tuple(r.when for r in rs)
        scores = np.array([_num(r.summary.get("score")) for r in rs])
        weeks: dict[str, list[float]] = {}
        for t, s in zip(times, scores, strict=True):
            y, w, _ = t.isocalendar()
            if np.isfinite(s):
                weeks.setdefault(f"{y}-W{w:02d}", []).append(float(s))
        wk = tuple((k, float(np.mean(v))) for k, v in sorted(weeks.items()))
        days = np.array([(t - times[0]).total_seconds() / 86400.0 for t in times])
        ok = np.isfinite(scores)
        slope = math.nan
        if ok.sum() >= 2 and np.ptp(days[ok]) >= 7.0:
            slope = float(np.polyfit(days[ok] / 7.0, scores[ok], 1)[0])
        out.append(
            Trend(
                name,
                times,
                tuple(float(x) for x in scores),
                tuple(_num(r.summary.get("hip_share")) for r in rs),
                tuple(_num(r.summary.get("max_lumbar_deviation_deg")) for r in rs),
                tuple(_num(r.summary.get("rotation_share")) for r in rs),
                wk,
                slope,
            )
        )
    return out


def _f(v: float, fmt: str = "{:.0f}") -> str:
    return fmt.format(v) if np.isfinite(v) else "—"


def table_rows(ts: Sequence[Trend]) -> list[list[str]]:
    """Rows: drill, sets, weeks, first-week score, last-week score, trend/week, hip share,
    share of the turns from the hips."""
    rows = []

    def mean(v: tuple[float, ...], fmt: str) -> str:
        a = np.array(v, float)
        return _f(float(np.nanmean(a)) if np.isfinite(a).any() else math.nan, fmt)

    for t in ts:
        rows.append(
            [
                get_spec(t.drill).title,
                str(len(t.scores)),
                str(len(t.weeks)),
                _f(t.first),
                _f(t.last),
                _f(t.slope_per_week, "{:+.1f}"),
                mean(t.hip_share, "{:.2f}"),
                mean(t.rotation_share, "{:.2f}"),
            ]
        )
    return rows


HEADERS = (
    "drill",
    "sets",
    "weeks",
    "first week",
    "last week",
    "trend / week",
    "hip share",
    "turn from hips",
)

_W, _H, _ML, _MB, _MT = 640, 150, 40, 24, 8


def svg_plot(t: Trend) -> str:
    """Score (0–100) of each set against the date, with the weekly means joined."""
    t0 = t.times[0]
    days = np.array([(x - t0).total_seconds() / 86400.0 for x in t.times])
    span = max(float(days.max()), 1.0)

    def x(d: float) -> float:
        return _ML + d / span * (_W - _ML - 10)

    def y(s: float) -> float:
        return _MT + (100.0 - s) / 100.0 * _H

    parts = [
        f'<svg class="plot" data-drill="{escape(t.drill)}" viewBox="0 0 {_W} {_MT + _H + _MB}" '
        f'width="100%" role="img" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(get_spec(t.drill).title)}: score per set</title>",
        f'<rect x="{_ML}" y="{_MT}" width="{_W - _ML - 10}" height="{_H}" fill="none" '
        'stroke="#999"/>',
    ]
    for v in (0, 50, 100):
        parts.append(
            f'<text x="{_ML - 4}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="10">{v}</text>'
        )
    pts = [(x(d), y(s)) for d, s in zip(days, t.scores, strict=True) if np.isfinite(s)]
    for px, py in pts:
        parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="#4a7ab5"/>')
    # Weekly means at the middle of each week's sets.
    wk_pts = []
    for label, mean in t.weeks:
        idx = [
            i
            for i, tt in enumerate(t.times)
            if f"{tt.isocalendar()[0]}-W{tt.isocalendar()[1]:02d}" == label
        ]
        wk_pts.append((x(float(np.mean(days[idx]))), y(mean), label))
    if len(wk_pts) > 1:
        line = " ".join(f"{a:.1f},{b:.1f}" for a, b, _ in wk_pts)
        parts.append(f'<polyline points="{line}" fill="none" stroke="#d9822b" stroke-width="2"/>')
    for a, _b, label in wk_pts:
        parts.append(
            f'<text x="{a:.1f}" y="{_MT + _H + 16}" text-anchor="middle" '
            f'font-size="10">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def write_html(ts: Sequence[Trend], path: str | os.PathLike[str]) -> Path:
    """The progress page (atomically written)."""
    p = Path(path)
    head = "".join(f"<th>{escape(h)}</th>" for h in HEADERS)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in table_rows(ts)
    )
    sections = "".join(f"<h2>{escape(get_spec(t.drill).title)}</h2>\n{svg_plot(t)}\n" for t in ts)
    html = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>spinewatch progress</title>"
        "<style>body{font-family:sans-serif;max-width:720px;margin:auto}"
        "td,th{padding:2px 8px;text-align:right}td:first-child{text-align:left}</style>"
        "</head><body><h1>Coach progress</h1>"
        "<p>Score per set (0–100: share of clean reps, or of hold time in the neutral band); "
        "the orange line joins the weekly means.</p>"
        f"<table><tr>{head}</tr>{body}</table>\n{sections}</body></html>\n"
    )
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, p)
    return p
