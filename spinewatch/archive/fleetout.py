"""Fleet report output: a terminal table, JSON, CSV, and a self-contained HTML page.

The HTML page has no external resource (inline CSS and SVG): per-wearer trend lines over the
weeks (time under load, alerts per loaded hour, share of rounded reps) and a wearer × week heat
map of alerts per loaded hour. The session report's :mod:`~spinewatch.sessions.svgplot` plots a
time series against seconds of one recording, so these week-axis plots are drawn here.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sys
from collections.abc import Sequence
from datetime import date, datetime
from html import escape
from pathlib import Path
from typing import Any

from spinewatch.archive.fleet import PLANE_SIDES, rate_column

Row = dict[str, Any]
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")


def _plain(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date | datetime) else v


def render(rows: Sequence[Row], fmt: str, title: str = "Fleet report") -> str:
    """``table`` (rich, for a terminal), ``json`` (a list of objects) or ``csv``."""
    if fmt == "json":
        return json.dumps([{k: _plain(v) for k, v in r.items()} for r in rows], indent=1) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        if rows:
            w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
            w.writeheader()
            w.writerows({k: _plain(v) for k, v in r.items()} for r in rows)
        return buf.getvalue()
    return _rich_table(rows, title)


def _num(v: Any, spec: str = ".1f") -> str:
    return "–" if v is None else format(v, spec)


def _rich_table(rows: Sequence[Row], title: str) -> str:
    from rich.console import Console
    from rich.table import Table

    if rows and "week" not in rows[0]:  # an --sql query: its own columns
        table = Table(title=title, header_style="bold")
        for k in rows[0]:
            table.add_column(k)
        for r in rows:
            table.add_row(*(str(_plain(v)) if v is not None else "–" for v in r.values()))
    else:
        table = Table(title=title, header_style="bold", caption="rates: alerts per loaded hour")
        heads = ["wearer", "week", "sess", "loaded h", "reps", "alerts/h"]
        heads += [f"{p[:3]}{'+' if s == 'positive' else '−'}" for p, s in PLANE_SIDES]
        heads += ["hip share", "rounded", "drift °"]
        for h in heads:
            table.add_column(h, justify="left" if h in ("wearer", "week") else "right")
        for r in rows:
            table.add_row(
                str(r["wearer"]),
                str(r["week"]),
                str(r["sessions"]),
                _num(r["loaded_h"], ".2f"),
                str(r["reps"]),
                _num(r["alerts_per_loaded_h"]),
                *(_num(r[rate_column(p, s)]) for p, s in PLANE_SIDES),
                _num(r["median_hip_share"], ".2f"),
                "–" if r["rounded_share"] is None else f"{100 * r['rounded_share']:.0f} %",
                _num(r["flexion_drift_deg"], "+.1f"),
            )
    out = io.StringIO()
    # Piped output never wraps (a script reads it); a terminal gets at least the table's width.
    width = max(160, shutil.get_terminal_size((160, 24)).columns) if sys.stdout.isatty() else 240
    Console(file=out, width=width, highlight=False).print(table)
    return out.getvalue()


# -- HTML ------------------------------------------------------------------------------------------
PW, PH, PL, PR, PT, PB = 640, 160, 48, 120, 10, 40


def trend_svg(rows: Sequence[Row], key: str, title: str, scale: float = 1.0) -> str:
    """One line per wearer of ``key`` over the weeks (gaps where a week has no value)."""
    weeks = sorted({r["week"] for r in rows})
    wearers = sorted({r["wearer"] for r in rows})
    vals = [r[key] * scale for r in rows if r[key] is not None]
    hi = max(vals + [1e-9])
    x = {w: PL + (i + 0.5) * PW / max(1, len(weeks)) for i, w in enumerate(weeks)}

    def y(v: float) -> float:
        return PT + PH - v / hi * PH

    out = [
        f'<svg viewBox="0 0 {PL + PW + PR} {PT + PH + PB}" width="100%" role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<rect class="frame" x="{PL}" y="{PT}" width="{PW}" height="{PH}"/>',
        f'<text class="tick" x="{PL - 4}" y="{PT + 10}">{hi:.3g}</text>',
        f'<text class="tick" x="{PL - 4}" y="{PT + PH}">0</text>',
    ]
    step = max(1, len(weeks) // 10)
    for i, w in enumerate(weeks):
        if i % step == 0:
            out.append(
                f'<text class="tick" x="{x[w]:.1f}" y="{PT + PH + 16}" '
                f'text-anchor="middle">{escape(w)}</text>'
            )
    for k, who in enumerate(wearers):
        color = COLORS[k % len(COLORS)]
        pts = [(x[r["week"]], y(r[key] * scale)) for r in rows
               if r["wearer"] == who and r[key] is not None]  # fmt: skip
        if not pts:
            continue
        line = " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
        out.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{line}">'
                   f"<title>{escape(who)}</title></polyline>")  # fmt: skip
        out += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2.5" fill="{color}"/>' for a, b in pts]
        if k < 12:
            out.append(f'<text x="{PL + PW + 8}" y="{PT + 12 + 13 * k}" fill="{color}" '
                       f'font-size="11">{escape(who)}</text>')  # fmt: skip
    out.append("</svg>")
    return "\n".join(out)


def heatmap_svg(rows: Sequence[Row], key: str = "alerts_per_loaded_h") -> str:
    """Wearer × week cells shaded by ``key`` (white 0 → dark red at the maximum)."""
    weeks = sorted({r["week"] for r in rows})
    wearers = sorted({r["wearer"] for r in rows})
    cw, ch, left, top = max(8, min(48, 760 // max(1, len(weeks)))), 16, 110, 24
    vals = {(r["wearer"], r["week"]): r[key] for r in rows}
    hi = max([v for v in vals.values() if v is not None] + [1e-9])
    out = [
        f'<svg viewBox="0 0 {left + cw * len(weeks) + 10} {top + ch * len(wearers) + 10}" '
        f'width="100%" role="img" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(key)} per wearer and week</title>"
    ]
    step = max(1, len(weeks) // 12)
    for j, w in enumerate(weeks):
        if j % step == 0:
            out.append(f'<text class="tick" x="{left + j * cw}" y="{top - 6}">{escape(w)}</text>')
    for i, who in enumerate(wearers):
        yy = top + i * ch
        out.append(f'<text class="tick" x="{left - 6}" y="{yy + 12}" text-anchor="end">'
                   f"{escape(who)}</text>")  # fmt: skip
        for j, w in enumerate(weeks):
            v = vals.get((who, w))
            if v is None:
                fill, label = "#eee", "no loaded time"
            else:
                f = v / hi
                fill = f"rgb(255,{int(255 * (1 - f))},{int(255 * (1 - f))})"
                label = f"{v:.1f}"
            out.append(
                f'<rect x="{left + j * cw}" y="{yy}" width="{cw - 1}" height="{ch - 1}" '
                f'fill="{fill}"><title>{escape(who)} {escape(w)}: {label}</title></rect>'
            )
    out.append("</svg>")
    return "\n".join(out)


CSS = """body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;
text-align:right}td:first-child,td:nth-child(2){text-align:left}.frame{fill:none;stroke:#999}
.tick{font-size:10px;fill:#555;text-anchor:end}h2{margin-top:1.6em}"""


def html_page(rows: Sequence[Row], title: str = "Fleet report") -> str:
    cols = list(rows[0]) if rows else []
    body = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{CSS}</style></head><body><h1>{escape(title)}</h1>",
        "<h2>Alerts per loaded hour, wearer × ISO week</h2>",
        heatmap_svg(rows),
        "<h2>Alerts per loaded hour</h2>",
        trend_svg(rows, "alerts_per_loaded_h", "alerts per loaded hour"),
        "<h2>Time under load (h)</h2>",
        trend_svg(rows, "loaded_h", "time under load, h"),
        "<h2>Share of rounded reps (%)</h2>",
        trend_svg(rows, "rounded_share", "rounded reps, %", scale=100.0),
        "<h2>Flexion drift within sets (°, last rep − first rep)</h2>",
        trend_svg(rows, "flexion_drift_deg", "flexion drift, deg"),
        "<h2>Table</h2><table><tr>" + "".join(f"<th>{escape(c)}</th>" for c in cols) + "</tr>",
    ]
    for r in rows:
        cells = []
        for c in cols:
            v = r[c]
            s = "–" if v is None else (f"{v:.3g}" if isinstance(v, float) else str(_plain(v)))
            cells.append(f"<td>{escape(s)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    body.append("</table></body></html>\n")
    return "\n".join(body)


def write_html(
    rows: Sequence[Row], path: str | os.PathLike[str], title: str = "Fleet report"
) -> None:
    """Write the page (temporary name in the same folder, then rename)."""
    p = Path(path)
    tmp = p.with_name(f".{p.name}.tmp")
    tmp.write_text(html_page(rows, title), encoding="utf-8")
    os.replace(tmp, p)
