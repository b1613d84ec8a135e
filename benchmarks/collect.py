"""Join the per-area fragments in docs/benchmarks/ into docs/benchmarks.md.

Every benchmark script writes its own fragment (so scripts never overwrite each other's
figures) and then calls :func:`collect`. Run alone: ``uv run python -m benchmarks.collect``.
"""

from __future__ import annotations

import platform
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRAGMENTS = ROOT / "docs" / "benchmarks"
ORDER = [
    "accuracy", "accuracy-no-sensor-cal", "engine", "alerts", "alerts-no-sensor-cal", "drills", "live", "startup", "csv_memory", "bridge", "gui",
    "sessions", "archive", "reanalysis",
]  # fmt: skip


def write_fragment(name: str, text: str) -> Path:
    """Write one area's fragment and refresh docs/benchmarks.md."""
    FRAGMENTS.mkdir(parents=True, exist_ok=True)
    path = FRAGMENTS / f"{name}.md"
    path.write_text(text.rstrip() + "\n", encoding="utf-8")
    collect()
    return path


def machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def collect() -> Path:
    parts = sorted(
        FRAGMENTS.glob("*.md"),
        key=lambda p: (ORDER.index(p.stem) if p.stem in ORDER else 99, p.stem),
    )
    out = [
        "# Benchmarks",
        "",
        "Measured figures, each section written by the script named in it (rerun that command",
        "to reproduce). Timings are machine-dependent; where machines are noisy, ratios",
        "(× real time) are given. Tests assert behaviour, never these timings.",
        "",
    ]
    for p in parts:
        out.append(p.read_text(encoding="utf-8").rstrip())
        out.append("")
    dest = ROOT / "docs" / "benchmarks.md"
    dest.write_text("\n".join(out) + "\n", encoding="utf-8")
    return dest


if __name__ == "__main__":
    print(collect())
