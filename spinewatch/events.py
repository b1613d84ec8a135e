"""Alerts and reps for ``analyze --events`` and the demo: profile → thresholds → events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from calibration import CalibrationProfile
    from posture.records import AngleBlock


def thresholds_for(profile: CalibrationProfile | None, spec: str | None) -> Any:
    """Thresholds: ``--thresholds`` > thresholds saved in the profile > profile ranges."""
    from posture.thresholds import Thresholds

    if profile is not None and profile.thresholds:
        base = Thresholds.from_json_dict(profile.thresholds)
    elif profile is not None:
        base = Thresholds.from_ranges(
            profile.ranges, standing_flexion_deg=profile.standing_flexion_deg
        )
    else:
        base = Thresholds()
    return Thresholds.parse(spec, base) if spec else base


def events_for(
    angles: AngleBlock, profile: CalibrationProfile | None, load_mode: str, spec: str | None
) -> dict[str, Any]:
    """Alerts under load and hinge reps of a whole angle block, as the documented JSON."""
    from posture.alerts import LoadSettings, detect_alerts
    from posture.reps import fatigue_slope, segment_reps

    th = thresholds_for(profile, spec)
    alerts = detect_alerts(angles, th, LoadSettings(mode=load_mode))
    reps = segment_reps(angles)
    return {
        "schema_version": 1,
        "thresholds": th.to_json_dict(),
        "load": load_mode,
        "alerts": [a.to_json_dict() for a in alerts],
        "reps": [r.to_json_dict() for r in reps],
        "summary": {
            "alerts": len(alerts),
            "reps": len(reps),
            "flexion_drift_deg_per_rep": round(fatigue_slope(reps), 3),
        },
    }
