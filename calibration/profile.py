"""The calibration profile: a frozen, versioned description of one wearer's neutral spine.

Saved as JSON (``schema_version`` first). Angles in the file are in degrees and quaternions
are ``[w, x, y, z]``. The profile carries what the engine needs (:attr:`spine_model`), the
measured ranges per plane, a quality score with its components, and optional alert
thresholds saved by the user.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from calibration.field_session import FieldData
from posture.acc_correction import AccCorrection
from posture.angles import SpineModel
from posture.errors import SpinewatchError
from posture.jsonsafe import dumps_json
from posture.thresholds import Thresholds

# 2: acc_correction (sensor table calibration); 3: field_acc (in-field accelerometer
# calibration data) and acc_correction.*.source. 1 and 2 still read.
SCHEMA_VERSION = 3
PLANES = ("flexion", "lateral_flexion", "rotation")

# Population defaults for planes that cat-cow does not explore (deg either side of neutral);
# lumbar lateral flexion is typically 20–30° per side and axial rotation 5–15° per side.
DEFAULT_RANGES: dict[str, tuple[float, float]] = {
    "lateral_flexion": (-25.0, 25.0),
    "rotation": (-12.0, 12.0),
}


class CalibrationError(SpinewatchError):
    """The calibration recording or profile cannot be used; the message says why and what to do."""


def _quat_list(q: Any) -> list[float]:
    return [float(v) for v in np.asarray(q, dtype=float).reshape(4)]


@dataclass(frozen=True)
class CalibrationProfile:
    """One wearer's calibration.

    Attributes:
        sensor_ids: role → sensor id (address or name) the profile was made with.
        mount_thoracic, mount_lumbar: sensor → segment quaternions ``[w, x, y, z]``.
        neutral: thoracic-in-lumbar segment orientation at neutral spine ``[w, x, y, z]``.
        ranges: plane → (negative limit, positive limit), deg relative to neutral.
        measured_planes: planes whose ranges were measured (the others are defaults).
        standing_flexion_deg: flexion of the quiet standing pose relative to neutral.
        quality: overall 0..1.
        quality_components: named 0..1 factors behind ``quality``.
        created: ISO-8601 creation time (UTC).
        info: recording facts (duration, rates, standing window, cycles...).
        thresholds: optional alert thresholds saved by the user (plane → deg).
        acc_correction: role → the sensor's accelerometer correction (from the sensor table
            calibration, :mod:`calibration.sensor_table`), applied to raw data before fusion
            in calibration, analysis and live; ``None``: raw data used as read.
        field_acc: the calibration recording's rest poses and sensitivities for the in-field
            accelerometer calibration of batch analysis (:mod:`calibration.field_session`);
            ``None`` with a table correction or in profiles older than schema 3.
        schema_version: JSON schema version.
    """

    sensor_ids: dict[str, str]
    mount_thoracic: tuple[float, float, float, float]
    mount_lumbar: tuple[float, float, float, float]
    neutral: tuple[float, float, float, float]
    ranges: dict[str, tuple[float, float]]
    measured_planes: tuple[str, ...] = ("flexion",)
    standing_flexion_deg: float = 0.0
    quality: float = 1.0
    quality_components: dict[str, float] = field(default_factory=dict)
    created: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    thresholds: dict[str, Any] | None = None
    acc_correction: dict[str, AccCorrection] | None = None
    field_acc: FieldData | None = None
    schema_version: int = SCHEMA_VERSION

    @property
    def spine_model(self) -> SpineModel:
        """Mountings and neutral for :class:`posture.engine.PostureEngine`."""
        return SpineModel(
            np.array(self.mount_thoracic),
            np.array(self.mount_lumbar),
            np.array(self.neutral),
            acc_correction=self.acc_correction,
        )

    @property
    def flexion_range_deg(self) -> float:
        lo, hi = self.ranges["flexion"]
        return hi - lo

    def with_thresholds(self, thresholds: dict[str, Any] | None) -> CalibrationProfile:
        return replace(self, thresholds=thresholds)

    # -- JSON ------------------------------------------------------------------------------
    def to_json_dict(self) -> dict[str, Any]:
        d = asdict(replace(self, acc_correction=None, field_acc=None))
        d["acc_correction"] = (
            None
            if self.acc_correction is None
            else {r: c.to_json_dict() for r, c in self.acc_correction.items()}
        )
        d["field_acc"] = None if self.field_acc is None else self.field_acc.to_json_dict()
        out: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
        for k, v in d.items():
            if k == "schema_version":
                continue
            if k in ("mount_thoracic", "mount_lumbar", "neutral"):
                v = _quat_list(v)
            elif k == "ranges":
                v = {p: [float(a), float(b)] for p, (a, b) in v.items()}
            elif k == "measured_planes":
                v = list(v)
            out[k] = v
        return out

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the profile as JSON (atomically: a crash never leaves half a file)."""
        p = Path(path)
        tmp = p.with_name(p.name + ".tmp")
        tmp.write_text(dumps_json(self.to_json_dict()) + "\n", encoding="utf-8")  # NaN -> null
        os.replace(tmp, p)

    @classmethod
    def from_json_dict(cls, d: Any, source: str = "profile") -> CalibrationProfile:
        """Build a profile from its JSON object, checking every field
        (:mod:`calibration.profile_schema`); a bad one raises :class:`CalibrationError`
        naming the field."""
        from calibration.profile_schema import ProfileSchemaError, check_profile_dict

        if not isinstance(d, dict):
            raise CalibrationError(f"{source}: not a calibration profile (expected a JSON object)")
        try:
            kw = check_profile_dict(d, SCHEMA_VERSION)
        except ProfileSchemaError as exc:
            advice = (
                "recalibrate with 'spinewatch calibrate'"
                if exc.field == "schema_version"
                else "fix that field, restore the file or recalibrate with 'spinewatch calibrate'"
            )
            raise CalibrationError(f"{source}: bad calibration profile: {exc}; {advice}") from None
        return cls(**kw)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CalibrationProfile:
        """Read a profile written by :meth:`save`; clear errors for missing or bad files."""
        p = str(path)
        try:
            text = Path(p).read_text(encoding="utf-8-sig")  # a BOM from an editor is fine
        except FileNotFoundError:
            raise CalibrationError(
                f"{p}: profile not found; create one with 'spinewatch calibrate RAW.csv -o {p}'"
            ) from None
        except UnicodeDecodeError:
            raise CalibrationError(
                f"{p}: not a calibration profile (not UTF-8 text); recalibrate or restore it"
            ) from None
        except OSError as exc:
            raise CalibrationError(f"{p}: cannot read the profile ({exc.strerror})") from None
        try:
            d = json.loads(text, parse_constant=_refuse_constant)
        except json.JSONDecodeError as exc:
            raise CalibrationError(
                f"{p}: not valid JSON (line {exc.lineno}: {exc.msg}); recalibrate or restore it"
            ) from None
        except ValueError as exc:  # NaN/Infinity, which JSON does not allow
            raise CalibrationError(f"{p}: {exc}; recalibrate or restore it") from None
        except RecursionError:
            raise CalibrationError(
                f"{p}: not a calibration profile (JSON nested too deeply); recalibrate or "
                "restore it"
            ) from None
        return cls.from_json_dict(d, source=p)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} in the file: JSON has no NaN or infinity (use null)")


def thresholds_for(profile: CalibrationProfile | None, spec: str | None = None) -> Thresholds:
    """Alert limits for a wearer: ``spec`` (``flexion=DEG,...``) > thresholds saved in the
    profile > a preset fraction of the profile's ranges > population defaults."""
    if profile is not None and profile.thresholds:
        base = Thresholds.from_json_dict(profile.thresholds)
    elif profile is not None:
        base = Thresholds.from_ranges(
            profile.ranges, standing_flexion_deg=profile.standing_flexion_deg
        )
    else:
        base = Thresholds()
    return Thresholds.parse(spec, base) if spec else base
