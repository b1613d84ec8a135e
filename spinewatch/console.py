"""Human-readable terminal output shared by the CLI commands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from calibration import CalibrationProfile
    from posture.alerts import Alert
    from posture.live import LiveUpdate


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
    if profile.acc_correction:
        con.print("accelerometers: corrected with the sensor table calibration")
    elif profile.field_acc is not None:
        n = ", ".join(f"{r} {len(p)}" for r, p in profile.field_acc.poses.items())
        con.print(
            f"accelerometers: rest poses kept for the in-field calibration ({n}); analyze "
            "fits bias and scale with the session's rest poses"
        )
    weak = [k for k, v in profile.quality_components.items() if v < 0.5 and k != "clock_alignment"]
    if weak:
        con.print("weak points: " + ", ".join(weak))


@dataclass
class LiveLines:
    """The terminal lines of live updates: alerts raised and ended, reps, set taps.

    The one format of ``monitor``, ``record``, ``replay`` and the live demo, e.g.
    ``   12.34 s  ALERT  flexion (forward)``. Times are stream times, s, minus ``origin``
    (``None``: nothing streamed yet, shown as 0).

    Attributes:
        origin: stream time shown as 0, s (``monitor``: the first sample; ``record`` and
            ``replay``: 0, so the host time is shown as it is stored).
        width: width of the time column.
        ended: also print when an alert ends.
        reps: also print each rep (numbered from 1).
        bell: ring the terminal bell with each alert.
    """

    origin: float | None = None
    width: int = 7
    ended: bool = True
    reps: bool = True
    bell: bool = False
    rep_count: int = 0

    def at(self, t_s: float) -> str:
        t = t_s - self.origin if self.origin is not None else 0.0
        return f"{t:{self.width}.2f} s"

    def alert(self, al: Alert) -> str:
        """The line of an alert as it is raised."""
        bell = "\a" if self.bell else ""
        what = f"{al.plane.replace('_', ' ')} ({al.side})"
        if al.is_review:  # a set's first rep, reviewed once the set was recognised
            return (
                f"{self.at(al.alert_s)}  ALERT  first rep of the set at {self.at(al.start_s)}: "
                f"{what}, peak {al.peak_deg:+.0f}° for {al.duration_s:.1f} s{bell}"
            )
        return f"{self.at(al.alert_s)}  ALERT  {what}{bell}"

    def __call__(self, up: LiveUpdate) -> list[str]:
        """The lines of one update, in this order: raised alerts, ended alerts, reps."""
        out = [self.alert(al) for al in up.raised]
        if self.ended:
            out += [
                f"{self.at(al.end_s)}  back in range after {al.duration_s:.1f} s "
                f"(peak {al.peak_deg:+.0f}°)"
                for al in up.ended
                if not al.is_review  # said in its ALERT line
            ]
        if self.reps:
            for rep in up.reps:
                self.rep_count += 1
                out.append(
                    f"{self.at(rep.end_s)}  rep {self.rep_count}: peak flexion "
                    f"{rep.peak_flexion_deg:+.0f}°, hip share {rep.hip_share:.0%}"
                )
        return out

    def tap(self, t_s: float, started: bool) -> str:
        """A set started or ended by a tap on a sensor."""
        return f"{self.at(t_s)}  set {'started' if started else 'ended'} (tap)"
