"""Alerts and reps for ``analyze --events`` and the demo: profile → thresholds → events.

``thresholds_for`` (the rule for a wearer's limits) lives with the profile in ``calibration``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from calibration.profile import thresholds_for

if TYPE_CHECKING:
    from calibration import CalibrationProfile
    from posture.records import AngleBlock


def events_for(
    angles: AngleBlock, profile: CalibrationProfile | None, load_mode: str, spec: str | None
) -> dict[str, Any]:
    """Alerts under load and hinge reps of a whole angle block, as the documented JSON."""
    from posture.alerts import LoadSettings, detect_alerts
    from posture.load import effective_load
    from posture.reps import fatigue_slope, segment_reps

    th = thresholds_for(profile, spec)
    load, warning = effective_load(LoadSettings(mode=load_mode), profile is not None)
    alerts = detect_alerts(angles, th, load, whole_recording=True)
    reps = segment_reps(angles)
    return {
        "schema_version": 1,
        "thresholds": th.to_json_dict(),
        "load": load.mode,  # auto without a profile falls back to never
        **({"load_warning": warning} if warning else {}),
        "alerts": [a.to_json_dict() for a in alerts],
        "reps": [r.to_json_dict() for r in reps],
        "summary": {
            "alerts": len(alerts),
            "reps": len(reps),
            "flexion_drift_deg_per_rep": round(fatigue_slope(reps), 3),
        },
    }
