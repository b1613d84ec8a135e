"""The calibration profile's JSON schema, checked field by field when a profile is read.

A profile steers every alert, so a damaged one must be refused, not half-used: a zero or NaN
mounting quaternion once gave "0 alerts", ``[5, 0, 0, 0]`` gave −156° flexion while standing,
and a missing plane or ``"limits": "x"`` gave tracebacks. :func:`check_profile_dict` checks
types, finite values, unit quaternions (within :data:`QUAT_NORM_TOL`; nothing is normalised
silently), every plane in ranges and thresholds, the sensors' accelerometer corrections
(schema 2; version-1 profiles, which have none, are read as "no correction"), and JSON
nesting depth, and raises
:class:`~calibration.profile.CalibrationError` with one line naming the field and what to do.

The checks are domain rules (unit norm, limit signs, planes) that a generic JSON-schema
library would not express, so they are written out here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from posture.acc_correction import MAX_BIAS, MAX_SCALE_ERROR, SOURCES, AccCorrection
from posture.errors import SpinewatchError

PLANES = ("flexion", "lateral_flexion", "rotation")
QUAT_NORM_TOL = 1e-3  # |‖q‖ − 1| allowed: files hold 17 digits, so more is damage
MAX_DEPTH = 12  # JSON nesting anywhere in a profile (info holds flat facts)
QUAT_FIELDS = ("mount_thoracic", "mount_lumbar", "neutral")


class ProfileSchemaError(SpinewatchError):
    """Raised with a field path and a reason; the caller adds the file and the advice."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"field '{field}' {problem}")
        self.field = field


def _show(v: Any) -> str:
    """Short, printable rendering of a bad value (never a numpy repr)."""
    text = repr(v) if isinstance(v, str) else str(v)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def number(v: Any, field: str, lo: float = -math.inf, hi: float = math.inf) -> float:
    """A finite JSON number in [lo, hi]."""
    if not _is_number(v):
        raise ProfileSchemaError(field, f"is {_show(v)}, expected a number")
    f = float(v)
    if not math.isfinite(f):
        raise ProfileSchemaError(field, f"is {_show(v)}, expected a finite number")
    if not lo <= f <= hi:
        raise ProfileSchemaError(field, f"is {f:g}, expected a value from {lo:g} to {hi:g}")
    return f


def _obj(v: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(v, Mapping):
        raise ProfileSchemaError(field, f"is {_show(v)}, expected an object {{...}}")
    return v


def _list(v: Any, field: str, n: int | None = None) -> list[Any]:
    if not isinstance(v, list | tuple):
        raise ProfileSchemaError(field, f"is {_show(v)}, expected a list [...]")
    if n is not None and len(v) != n:
        raise ProfileSchemaError(field, f"has {len(v)} values, expected {n}")
    return list(v)


def unit_quaternion(v: Any, field: str) -> tuple[float, float, float, float]:
    """``[w, x, y, z]``, four finite numbers of norm 1 ± :data:`QUAT_NORM_TOL`."""
    q = [number(c, f"{field}[{i}]") for i, c in enumerate(_list(v, field, 4))]
    norm = math.sqrt(sum(c * c for c in q))
    if abs(norm - 1.0) > QUAT_NORM_TOL:
        raise ProfileSchemaError(
            field, f"is {_show(v)}, not a unit quaternion [w, x, y, z] (length {norm:.4g})"
        )
    return q[0], q[1], q[2], q[3]  # kept as written: the engine normalises


def plane_limits(
    v: Any, field: str, span: float, need_all: bool = True
) -> dict[str, tuple[float, float]]:
    """plane → (negative ≤ 0, positive ≥ 0) deg, every plane present, no unknown keys."""
    d = _obj(v, field)
    for key in d:
        if key not in PLANES:
            raise ProfileSchemaError(
                f"{field}.{_show(key)}", f"is not a plane (use {', '.join(PLANES)})"
            )
    out: dict[str, tuple[float, float]] = {}
    for p in PLANES:
        if p not in d:
            if need_all:
                raise ProfileSchemaError(f"{field}.{p}", "is missing (every plane needs limits)")
            continue
        lo_v, hi_v = _list(d[p], f"{field}.{p}", 2)
        lo = number(lo_v, f"{field}.{p}[0]", -span, 0.0)
        hi = number(hi_v, f"{field}.{p}[1]", 0.0, span)
        if lo == hi:
            raise ProfileSchemaError(f"{field}.{p}", "is an empty range (both limits 0)")
        out[p] = (lo, hi)
    return out


def _depth_ok(v: Any, field: str) -> None:
    stack: list[tuple[Any, int]] = [(v, 1)]
    while stack:
        x, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ProfileSchemaError(field, f"is nested more than {MAX_DEPTH} levels deep")
        if isinstance(x, Mapping):
            stack.extend((y, depth + 1) for y in x.values())
        elif isinstance(x, list | tuple):
            stack.extend((y, depth + 1) for y in x)


def acc_correction(v: Any, field: str) -> AccCorrection:
    """One sensor's accelerometer correction: ``bias_m_s2`` and ``scale``, three numbers
    each (within :data:`posture.acc_correction.MAX_BIAS` / ``MAX_SCALE_ERROR``), and its
    ``source`` (``table`` or ``field``; absent in files written before the in-field
    calibration, which only had table corrections: read as ``table``)."""
    d = _obj(v, field)
    source = d.get("source", "table")
    if source not in SOURCES:
        raise ProfileSchemaError(
            f"{field}.source", f"is {_show(source)}, expected one of {', '.join(SOURCES)}"
        )
    bias = [
        number(x, f"{field}.bias_m_s2[{i}]", -MAX_BIAS, MAX_BIAS)
        for i, x in enumerate(_list(d.get("bias_m_s2"), f"{field}.bias_m_s2", 3))
    ]
    lo, hi = 1.0 - MAX_SCALE_ERROR, 1.0 + MAX_SCALE_ERROR
    scale = [
        number(x, f"{field}.scale[{i}]", lo, hi)
        for i, x in enumerate(_list(d.get("scale"), f"{field}.scale", 3))
    ]
    info = dict(_obj(d.get("info", {}), field))
    return AccCorrection(np.array(bias), np.array(scale), info, str(source))


def field_acc(v: Any, field: str = "field_acc") -> Any:
    """In-field calibration data (:class:`calibration.field_session.FieldData`): rest poses
    per role (lists of three numbers within ±3 g, m/s²) and a 10 × 12 sensitivity matrix."""
    from calibration.field_session import OUTPUTS, PARAMS, FieldData

    d = _obj(v, field)
    poses: dict[str, np.ndarray] = {}
    for role, rows in _obj(d.get("rest_poses_m_s2"), f"{field}.rest_poses_m_s2").items():
        f = f"{field}.rest_poses_m_s2.{role}"
        poses[str(role)] = np.array(
            [
                [number(x, f"{f}[{i}][{j}]", -30.0, 30.0) for j, x in enumerate(_list(r, f, 3))]
                for i, r in enumerate(_list(rows, f))
            ]
        ).reshape(-1, 3)
    n_out, n_par = len(OUTPUTS) + 6, 2 * len(PARAMS)  # three rotation vectors + one number
    rows = _list(d.get("sensitivity"), f"{field}.sensitivity", n_out)
    sens = np.array(
        [
            [
                number(x, f"{field}.sensitivity[{i}][{j}]")
                for j, x in enumerate(_list(r, f"{field}.sensitivity[{i}]", n_par))
            ]
            for i, r in enumerate(rows)
        ]
    )
    return FieldData(poses, sens)


def check_thresholds(v: Any, field: str = "thresholds") -> dict[str, Any]:
    """Saved alert thresholds: limits per plane (0–90°), hysteresis 0–10°, debounce 0–5 s."""
    d = _obj(v, field)
    if "limits" not in d:
        raise ProfileSchemaError(f"{field}.limits", "is missing")
    limits = plane_limits(d["limits"], f"{field}.limits", 90.0)
    return {
        "limits": {p: [lo, hi] for p, (lo, hi) in limits.items()},
        "hysteresis_deg": number(d.get("hysteresis_deg", 2.0), f"{field}.hysteresis_deg", 0, 10),
        "min_duration_s": number(d.get("min_duration_s", 0.1), f"{field}.min_duration_s", 0, 5),
    }


def _version(d: Mapping[str, Any], schema_version: int) -> int:
    """The profile's schema version, 1 to ``schema_version``."""
    if "schema_version" not in d:
        raise ProfileSchemaError("schema_version", "is missing; is this a spinewatch profile?")
    version = d["schema_version"]
    if isinstance(version, str) or not _is_number(version) or version != int(version):
        raise ProfileSchemaError(
            "schema_version",
            f"is {_show(version)}, expected the whole number {schema_version} (without quotes)",
        )
    if not 1 <= int(version) <= schema_version:
        raise ProfileSchemaError(
            "schema_version",
            f"is {int(version)}: profile schema version {int(version)} is not supported (this "
            f"spinewatch reads versions 1 to {schema_version})",
        )
    # Version 1 had no sensor accelerometer correction: it migrates as "none" (raw data used
    # as read, exactly as before). Version 2 had no in-field calibration data (field_acc:
    # batch analysis then uses the accelerometers as read, as before) and only table
    # corrections (source "table"). Saving the profile writes the current version.
    return int(version)


def check_profile_dict(d: Any, schema_version: int) -> dict[str, Any]:
    """Every field of a profile JSON object, checked and converted to the dataclass's types.

    Returns keyword arguments for :class:`~calibration.profile.CalibrationProfile`.

    Raises:
        ProfileSchemaError: the first bad field, with what is wrong with it.
    """
    if not isinstance(d, Mapping):
        raise ProfileSchemaError("(top level)", f"is {_show(d)}, expected a JSON object")
    _depth_ok(d, "(top level)")
    version = _version(d, schema_version)
    for key in (*QUAT_FIELDS, "ranges"):
        if key not in d:
            raise ProfileSchemaError(key, "is missing")
    sensor_ids = _obj(d.get("sensor_ids", {}), "sensor_ids")
    for role, sid in sensor_ids.items():
        if not isinstance(sid, str):
            raise ProfileSchemaError(f"sensor_ids.{role}", f"is {_show(sid)}, expected text")
    measured = _list(d.get("measured_planes", ["flexion"]), "measured_planes")
    for i, p in enumerate(measured):
        if p not in PLANES:
            raise ProfileSchemaError(f"measured_planes[{i}]", f"is {_show(p)}, not a plane")
    comps = _obj(d.get("quality_components", {}), "quality_components")
    created = d.get("created", "")
    if not isinstance(created, str):
        raise ProfileSchemaError("created", f"is {_show(created)}, expected text")
    thresholds = d.get("thresholds")
    acc = d.get("acc_correction") if version >= 2 else None
    fa = d.get("field_acc") if version >= 3 else None
    return {
        "field_acc": None if fa is None else field_acc(fa),
        "acc_correction": None
        if acc is None
        else {
            str(r): acc_correction(c, f"acc_correction.{r}")
            for r, c in _obj(acc, "acc_correction").items()
        },
        "sensor_ids": dict(sensor_ids),
        **{k: unit_quaternion(d[k], k) for k in QUAT_FIELDS},
        "ranges": plane_limits(d["ranges"], "ranges", 180.0),
        "measured_planes": tuple(measured),
        "standing_flexion_deg": number(
            d.get("standing_flexion_deg", 0.0), "standing_flexion_deg", -180, 180
        ),
        "quality": number(d.get("quality", 0.0), "quality", 0, 1),
        "quality_components": {
            str(k): number(v, f"quality_components.{k}") for k, v in comps.items()
        },
        "created": created,
        "info": dict(_obj(d.get("info", {}), "info")),
        "thresholds": None if thresholds is None else check_thresholds(thresholds),
    }
