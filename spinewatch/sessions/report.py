"""The session report: one self-contained HTML file (inline CSS and SVG, no scripts, no links).

Sections: summary; angle-vs-time plots (flexion, lateral flexion, rotation with the alert
limits, alerts shaded red and time under load shaded grey; the hip hinge); sets (from the
set markers, else reps grouped by pauses); reps; alerts; calibration; link quality. Tables
carry ids (``sets``, ``reps``, ``alerts``, ``calibration``, ``links``) and plots
``data-series`` so tests and scripts can read them back.

Everything that comes from the session file (names, roles, planes, profile keys, notes,
link-status text) is HTML-escaped: table cells are escaped unless built here as
:class:`Html`, so a crafted file cannot put markup or scripts into the report.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from posture.alerts import Alert
from posture.reps import RepMetrics, fatigue_slope
from spinewatch.sessions.reader import SessionFile
from spinewatch.sessions.svgplot import Band, Envelope, time_plot

if TYPE_CHECKING:
    from spinewatch.sessions.replay import ReplayResult

PLANES = ("flexion", "lateral_flexion", "rotation")
SET_PAUSE_S = 20.0  # reps further apart than this start a new set (without set markers)

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:980px;color:#222}
h1{font-size:1.6em} h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0} td,th{padding:2px 10px;text-align:right}
th{background:#f2f2f2} td:first-child,th:first-child{text-align:left}
.plot{display:block;margin:.3em 0 1em} .frame{fill:none;stroke:#bbb}
.line{fill:none;stroke:#1f5fa8;stroke-width:1} .hip{fill:none;stroke:#2a8a3a;stroke-width:1}
.limit{stroke:#d33;stroke-dasharray:6 4} .alert{fill:#e33;fill-opacity:.25}
.load{fill:#888;fill-opacity:.13} .tick{font-size:11px;fill:#555;text-anchor:end}
.bad{color:#b00;font-weight:bold} .muted{color:#777}
"""


@dataclass(frozen=True)
class SetSummary:
    start_s: float
    end_s: float
    reps: list[RepMetrics]
    alerts: list[Alert]
    source: str  # "marker" or "pause"


def find_sets(sf: SessionFile, reps: list[RepMetrics], alerts: list[Alert]) -> list[SetSummary]:
    """Sets from the set markers; without markers, reps grouped by pauses > 20 s."""
    spans: list[tuple[float, float, str]] = []
    start: float | None = None
    for m in sf.markers():
        if m.kind == "set_start" and m.t_s is not None:
            start = m.t_s
        elif m.kind == "set_end" and start is not None and m.t_s is not None:
            spans.append((start, m.t_s, "marker"))
            start = None
    if start is not None:
        spans.append((start, np.inf, "marker"))
    if not spans:
        for r in reps:
            if spans and r.start_s - spans[-1][1] <= SET_PAUSE_S:
                spans[-1] = (spans[-1][0], r.end_s, "pause")
            else:
                spans.append((r.start_s, r.end_s, "pause"))
    return [
        SetSummary(
            a,
            b,
            [r for r in reps if a <= r.bottom_s <= b],
            [al for al in alerts if a <= al.start_s <= b],
            src,
        )
        for a, b, src in spans
    ]


class Html(str):
    """A table cell that is markup made here (not escaped again); every other cell is text."""


def _cell(c: str) -> str:
    return c if isinstance(c, Html) else escape(str(c))


def _table(tid: str, head: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f'<p id="{tid}" class="muted">{escape(empty)}</p>'
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table id="{tid}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _f(v: object, fmt: str = "{:+.1f}") -> str:
    ok = isinstance(v, int | float | np.number) and not isinstance(v, bool) and np.isfinite(v)
    return fmt.format(v) if ok else "–"


def _clock(s: float) -> str:
    m, sec = divmod(max(0.0, s), 60.0)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{sec:04.1f}" if h else f"{m}:{sec:04.1f}"


def render_report(sf: SessionFile, analysis: ReplayResult | None = None) -> str:
    """The report of an open session as an HTML string.

    ``analysis``: angles, load, alerts and reps to show instead of those recorded live (the
    batch re-analysis of ``report --batch``, :mod:`spinewatch.sessions.reanalysis`).
    """
    s = sf.summary()
    prof = sf.profile()
    th = sf.thresholds()
    alerts, reps = (
        (sf.alerts(), sf.reps()) if analysis is None else (analysis.alerts, analysis.reps)
    )
    sets = find_sets(sf, reps, alerts)
    t0, t1 = (s.t0, s.t1) if np.isfinite(s.t0) else (0.0, 1.0)
    env = Envelope(t0, t1, [*PLANES, "hip_angle", "load"])
    chunks = sf.iter_angles() if analysis is None else [(analysis.angles, analysis.under_load)]
    for a, load in chunks:
        env.add(a.t, {**{p: getattr(a, p) for p in PLANES}, "hip_angle": a.hip_angle,
                      "load": load.astype(float)})  # fmt: skip
    load_bands = [Band(a, b, "load", "under load") for a, b in env.runs("load")]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>spinewatch session {escape(s.name)}</title><style>{CSS}</style></head><body>",
        f"<h1>Session {escape(s.name)}</h1>",
        _table(
            "summary",
            ["", ""],
            [
                ["recorded", time.strftime("%Y-%m-%d %H:%M", time.localtime(s.created_unix))],
                ["status", s.status.value],
                ["duration", _clock(s.duration_s)],
                ["time stamps", f"{t0:.3f} s … {t1:.3f} s (the recording's own)"],
                [
                    "analysis",
                    "as recorded live"
                    if analysis is None
                    else "batch estimate, re-analysed from the raw samples",
                ],
                ["sets / reps / alerts", f"{len(sets)} / {len(reps)} / {len(alerts)}"],
                ["flexion drift per rep", _f(fatigue_slope(reps), "{:+.2f}°")],
            ],
            "",
        ),
        "<h2>Spine angles</h2>",
        '<p class="muted">Degrees from your calibrated neutral; dashed red: alert limits; '
        "red: alerts; grey: under load. Time from the start of the session.</p>",
    ]
    for p in PLANES:
        lo, hi = th.limits.get(p, (np.nan, np.nan))
        bands = load_bands + [
            Band(
                a.start_s,
                a.end_s if np.isfinite(a.end_s) else t1,
                "alert",
                f"{a.plane} {a.side}, peak {a.peak_deg:+.1f}°",
            )  # fmt: skip
            for a in alerts
            if a.plane == p
        ]
        lim = [v for v in (lo, hi) if np.isfinite(v)]
        parts.append(f"<h3>{escape(p.replace('_', ' '))}</h3>")
        parts.append(time_plot(env, p, f"{p} (deg)", limits=lim, bands=bands))
    parts.append("<h3>hip hinge (pelvis forward tilt)</h3>")
    parts.append(time_plot(env, "hip_angle", "hip angle (deg)", bands=load_bands, css="hip"))

    parts.append("<h2>Sets</h2>")
    rows = []
    for i, st in enumerate(sets, 1):
        peak = max((r.peak_flexion_deg for r in st.reps), default=np.nan)
        shares = [r.hip_share for r in st.reps if np.isfinite(r.hip_share)]
        share = float(np.mean(shares)) if shares else np.nan
        end = st.end_s if np.isfinite(st.end_s) else t1
        rows.append([str(i), _clock(st.start_s - t0), _clock(end - st.start_s),
                     str(len(st.reps)), _f(peak), _f(100 * share, "{:.0f} %"),
                     str(len(st.alerts)), st.source])  # fmt: skip
    head = [
        "set",
        "start",
        "length",
        "reps",
        "peak flexion (°)",
        "mean hip share",
        "alerts",
        "from",
    ]
    parts.append(_table("sets", head, rows, "no sets in this session"))

    parts.append("<h2>Reps</h2>")
    rows = []
    for i, r in enumerate(reps, 1):
        n_al = sum(1 for a in alerts if a.start_s <= r.end_s and (a.end_s >= r.start_s))
        set_no = next((str(k) for k, st in enumerate(sets, 1) if r in st.reps), "–")
        cls = ' class="bad"' if n_al else ""
        rows.append([str(i), set_no, f"{r.start_s:.2f}", _f(r.time_under_tension_s, "{:.1f}"),
                     _f(r.peak_flexion_deg), _f(r.peak_lateral_flexion_deg),
                     _f(r.peak_rotation_deg), _f(r.peak_hip_angle_deg, "{:.0f}"),
                     _f(100 * r.hip_share, "{:.0f} %"),
                     Html(f"<span{cls}>{n_al}</span>")])  # fmt: skip
    head = ["rep", "set", "start (s)", "duration (s)", "peak flexion (°)", "peak lateral (°)",
            "peak rotation (°)", "hip angle (°)", "hip share", "alerts"]  # fmt: skip
    parts.append(_table("reps", head, rows, "no hip-hinge reps found"))

    parts.append("<h2>Alerts</h2>")
    rows = [[f"{a.start_s:.2f}", _clock(a.start_s - t0), a.plane.replace("_", " "),
             a.side, _f(a.peak_deg), _f(a.duration_s, "{:.2f}"),
             "yes" if a.under_load else "no"] for a in alerts]  # fmt: skip
    head = ["start (s)", "into session", "plane", "side", "peak (°)", "duration (s)", "under load"]
    parts.append(_table("alerts", head, rows, "no alerts: well done"))

    parts.append("<h2>Calibration</h2>")
    if prof is None:
        parts.append(
            '<p id="calibration" class="bad">No calibration profile: angles are relative to '
            "a default frame. Calibrate with 'spinewatch calibrate'.</p>"
        )
    else:
        rows = [[p.replace("_", " "), f"{lo_:+.1f} / {hi_:+.1f}",
                 "measured" if p in prof.measured_planes else "population default",
                 " / ".join(f"{v:+.1f}" for v in th.limits.get(p, ()))]
                for p, (lo_, hi_) in prof.ranges.items()]  # fmt: skip
        parts.append(_table("calibration", ["plane", "range (°)", "source", "alert limits (°)"],
                            rows, ""))  # fmt: skip
        parts.append(f"<p>Quality {prof.quality:.2f}; quiet standing sits "
                     f"{prof.standing_flexion_deg:+.1f}° from neutral; created "
                     f"{escape(str(prof.created))}.</p>")  # fmt: skip

    parts.append("<h2>Link quality</h2>")
    links = sf.link_stats()
    rows = []
    for role, n in s.samples.items():
        last = links.get(role, [(0.0, {})])[-1][1]
        drop = s.dropped.get(role, 0)
        pct = 100.0 * drop / max(1, n + drop)
        rows.append([role, str(n), Html(f"<span{' class=bad' if pct > 1 else ''}>{drop}</span>"),
                     f"{pct:.2f} %", _f(last.get("rate_hz"), "{:.1f}"),
                     str(last.get("reconnects", "–")), _f(last.get("jitter_ms"), "{:.1f}"),
                     _f(last.get("battery_pct"), "{:.0f} %"),
                     str(last.get("name", "")), str(last.get("address", "")),
                     ])  # fmt: skip
    head = ["sensor", "samples", "dropped", "drop rate", "rate (Hz)", "reconnects",
            "jitter (ms)", "battery", "name", "address"]  # fmt: skip
    parts.append(_table("links", head, rows, "no sensor data"))
    parts.append(f'<p class="muted">spinewatch report, generated '
                 f"{time.strftime('%Y-%m-%d %H:%M')}.</p></body></html>")  # fmt: skip
    return "\n".join(parts)


def write_report(
    sf: SessionFile, path: str | os.PathLike[str], analysis: ReplayResult | None = None
) -> Path:
    """Render and write the report to ``path`` (the command renames it into place)."""
    p = Path(path)
    with sf.damaged("report"):
        text = render_report(sf, analysis)
    p.write_text(text, encoding="utf-8")
    return p
