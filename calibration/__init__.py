"""Functional calibration: quiet standing + cat-cow → a frozen, versioned wearer profile."""

from calibration.functional import CalibrationSettings, calibrate
from calibration.profile import (
    SCHEMA_VERSION,
    CalibrationError,
    CalibrationProfile,
    thresholds_for,
)

__all__ = [
    "SCHEMA_VERSION",
    "CalibrationError",
    "CalibrationProfile",
    "CalibrationSettings",
    "calibrate",
    "thresholds_for",
]
