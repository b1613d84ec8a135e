"""Alerts and reps for ``analyze --events``: glue between the profile and posture.alerts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from calibration import CalibrationProfile
    from posture.records import AngleBlock


def events_for(
    angles: AngleBlock,
    profile: CalibrationProfile | None,
    load_mode: str,
    thresholds_arg: str | None,
) -> dict[str, Any]:
    """Run the alert engine and rep segmentation over a whole angle block."""
    from posture import alerts

    return alerts.events_for_cli(angles, profile, load_mode, thresholds_arg)
