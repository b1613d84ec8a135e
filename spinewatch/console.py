"""Human-readable terminal output shared by the CLI commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from calibration import CalibrationProfile


def print_profile(profile: CalibrationProfile) -> None:
    """Ranges, neutral and quality of a calibration, as a short table."""
    from rich.console import Console
    from rich.table import Table

    con = Console(highlight=False)
    table = Table(title="Calibration", show_header=True, header_style="bold")
    table.add_column("plane")
    table.add_column("range either side of neutral (deg)", justify="right")
    table.add_column("source")
    for plane, (lo, hi) in profile.ranges.items():
        src = "measured (cat-cow)" if plane in profile.measured_planes else "population default"
        table.add_row(plane.replace("_", " "), f"{lo:+.1f} / {hi:+.1f}", src)
    con.print(table)
    q = profile.quality
    verdict = "good" if q >= 0.7 else "fair" if q >= 0.5 else "poor: consider recording again"
    con.print(
        f"neutral sits {abs(profile.standing_flexion_deg):.1f}° "
        f"{'into flexion' if profile.standing_flexion_deg < 0 else 'into extension'} "
        f"from your standing posture; quality {q:.2f} ({verdict})"
    )
    weak = [k for k, v in profile.quality_components.items() if v < 0.5 and k != "clock_alignment"]
    if weak:
        con.print("weak points: " + ", ".join(weak))
