"""Which units a raw recording is in, and converting declared ones to SI.

The raw CSV format is SI (acc in m/s², gyr in rad/s), but exports of other tools are often in
g and deg/s. Read as SI, such a file gives nonsense that looks plausible (26 alerts instead of
6), so the data are checked: the data themselves say which unit they are in.

* Acceleration: the median magnitude is gravity, 9.81 in m/s², 1 in g, 1000 in mg, whatever
  the wearer does.
* Angular rate: in deg/s, values beyond the ±2000 °/s = ±35 rad/s full scale of any IMU give
  it away; otherwise the tilt of the gravity direction seen by the accelerometer is compared
  with the rotation the gyroscope reports about horizontal axes over the same time. In rad/s
  they agree (ratio ≈ 1); in deg/s the gyroscope says 57× more. Without tilt (quiet
  standing), the noise of the stillest moments decides: 0.001–0.006 in rad/s, 57× more in
  deg/s.

``--units acc=g,gyro=deg/s`` declares units instead: declared quantities are converted and
not second-guessed (for a rare recording the tilt test misjudges).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from posture.constants import G
from posture.errors import DataFormatError
from posture.forked import Threaded
from posture.median import median, percentile
from posture.records import ImuBlock

ACC_UNITS = {"m/s2": 1.0, "m/s²": 1.0, "g": G, "mg": G / 1000.0}
GYR_UNITS = {"rad/s": 1.0, "deg/s": math.pi / 180.0, "dps": math.pi / 180.0}
UNITS_HELP = "acc=m/s2|g|mg,gyro=rad/s|deg/s"
_GYRO_FULL_SCALE = math.radians(2000.0)  # rad/s: no IMU reports faster
_TILT_RATIO_DEG = 8.0  # gyro/tilt path ratio above which the gyro is in deg/s (rad/s ≈ 1)
_MIN_TILT_PATH = 0.5  # rad of gravity-direction change needed for the tilt test
# Gyro noise in the stillest 0.2 s windows: MEMS gyroscopes at rest show 0.001–0.006 rad/s
# (simulator and BROAD); the same noise in deg/s reads 0.06–0.35.
_REST_NOISE_DEG = 0.05
F64 = NDArray[np.float64]


@dataclass(frozen=True)
class UnitSpec:
    """Declared units (None: not declared, detect)."""

    acc: str | None = None
    gyro: str | None = None

    @classmethod
    def parse(cls, text: str | None) -> UnitSpec:
        """``"acc=g,gyro=deg/s"`` → UnitSpec; ValueError with a one-line reason."""
        out: dict[str, str] = {}
        for part in filter(None, (s.strip() for s in (text or "").split(","))):
            key, sep, unit = (x.strip() for x in part.partition("="))
            table = {"acc": ACC_UNITS, "gyro": GYR_UNITS, "gyr": GYR_UNITS}.get(key)
            if not sep or table is None:
                raise ValueError(f"bad unit '{part}': use {UNITS_HELP}")
            if unit not in table:
                raise ValueError(f"unknown {key} unit '{unit}': use one of {', '.join(table)}")
            out["gyro" if key == "gyr" else key] = unit
        if not out:
            raise ValueError(f"no units given: use {UNITS_HELP}")
        return cls(**out)


def _acc_magnitude(b: ImuBlock) -> float:
    return median(np.linalg.norm(b.acc, axis=1)) if len(b) else math.nan


def _gyro_tilt_ratio(b: ImuBlock) -> float:
    """∫|ω⊥g| dt / ∫|d(g direction)| over 0.2 s means; NaN without enough tilt."""
    if len(b) < 10:
        return math.nan
    dt = np.diff(b.t)
    step = median(dt)
    if not step > 0:
        return math.nan
    k = max(1, int(round(0.2 / step)))
    n = (len(b) // k) * k
    if n < 3 * k:
        return math.nan
    acc = b.acc[:n].reshape(-1, k, 3).mean(axis=1)
    gyr = b.gyr[:n]
    norm = np.linalg.norm(acc, axis=1, keepdims=True)
    if not (norm > 0).all():
        return math.nan
    down = acc / norm
    dot = np.clip(np.einsum("ij,ij->i", down[1:], down[:-1]), -1.0, 1.0)
    tilt = float(np.arccos(dot).sum())
    if tilt < _MIN_TILT_PATH:
        return math.nan
    # Rotation about horizontal axes only: the accelerometer cannot see turns about gravity.
    # |ω⊥|² = |ω|² − (ω·d)², with each window's d broadcast over its k samples (no copies).
    g3 = gyr.reshape(-1, k, 3)
    along = np.einsum("wkj,wj->wk", g3, down).ravel()
    perp = np.sqrt(np.maximum(np.einsum("ij,ij->i", gyr, gyr) - along * along, 0.0))
    seconds = np.append(dt[: n - 1], step)
    return float((perp * np.clip(seconds, 0, 10 * step)).sum() / tilt)


def _rest_noise(b: ImuBlock) -> float:
    """Gyro noise (std, largest axis) of the stillest tenth of 0.2 s windows."""
    if len(b) < 10:
        return math.nan
    step = median(np.diff(b.t))
    k = max(2, int(round(0.2 / step))) if step > 0 else 10
    n = (len(b) // k) * k
    if n < k:
        return math.nan
    std = b.gyr[:n].reshape(-1, k, 3).std(axis=1).max(axis=1)
    return percentile(std, 10)


def _peak_rate(gyr: F64) -> float:
    """99.9th percentile of ``|gyr|`` (rad/s); 0.0 when no value exceeds the full scale (the
    percentile cannot then either): one comparison instead of a partition of every value."""
    if not (np.abs(gyr) > _GYRO_FULL_SCALE).any():
        return 0.0
    return percentile(np.abs(gyr), 99.9)


def _refuse(path: str, role: str, what: str) -> DataFormatError:
    return DataFormatError(f"{role} {what}", path=path)


def check_units(blocks: Mapping[str, ImuBlock], path: str, spec: UnitSpec | None = None) -> None:
    """Refuse blocks whose acc is not m/s² or gyro not rad/s (undeclared quantities only).

    Raises:
        DataFormatError: which sensor and column look like which unit, and how to convert.
    """
    spec = spec or UnitSpec()
    for role, b in blocks.items():
        if spec.acc is None:
            m = _acc_magnitude(b)
            if m == m:  # not NaN
                hint = (
                    f" (median |acc| {m:.3g}; at rest m/s² gives 9.81)"
                    if not 4.0 <= m <= 25.0
                    else ""
                )
                if 0.4 <= m <= 2.5:
                    raise _refuse(
                        path,
                        role,
                        f"acc_x..z look like g, not m/s²{hint}: multiply them by 9.80665, "
                        "or pass --units acc=g",
                    )
                if 400.0 <= m <= 2500.0:
                    raise _refuse(
                        path,
                        role,
                        f"acc_x..z look like mg, not m/s²{hint}: multiply them by 0.00980665, "
                        "or pass --units acc=mg",
                    )
                if hint:
                    raise _refuse(
                        path,
                        role,
                        f"acc_x..z are not in m/s²{hint}; give specific force in m/s² "
                        "(docs/formats.md)",
                    )
        if spec.gyro is None and len(b):
            peak = _peak_rate(b.gyr)
            ratio = _gyro_tilt_ratio(b)
            noise = _rest_noise(b) if ratio != ratio else math.nan
            if peak > _GYRO_FULL_SCALE:
                why = f"peaks of {peak:.0f}, beyond any gyroscope's ±35 rad/s"
            elif ratio > _TILT_RATIO_DEG:
                why = f"rates {ratio:.0f}× the tilt the accelerometer sees"
            elif noise > _REST_NOISE_DEG:
                why = f"noise at rest {noise:.2g}, where rad/s gives about 0.005"
            else:
                why = ""
            if why:
                raise _refuse(
                    path,
                    role,
                    f"gyr_x..z look like deg/s, not rad/s ({why}): multiply them by "
                    "0.0174533 (π/180), or pass --units gyro=deg/s",
                )


def to_si(blocks: Mapping[str, ImuBlock], spec: UnitSpec) -> dict[str, ImuBlock]:
    """Blocks with declared units converted to m/s² and rad/s."""
    fa = ACC_UNITS[spec.acc] if spec.acc else 1.0
    fg = GYR_UNITS[spec.gyro] if spec.gyro else 1.0
    if fa == 1.0 and fg == 1.0:
        return dict(blocks)
    return {r: dataclasses.replace(b, acc=b.acc * fa, gyr=b.gyr * fg) for r, b in blocks.items()}


def read_raw_si(path: str, units: str | UnitSpec | None = None) -> dict[str, ImuBlock]:
    """:func:`posture.rawcsv.read_raw_csv`, then declared units converted and the others
    checked (:func:`check_units`)."""
    blocks, spec = read_raw_declared(path, units)
    check_units(blocks, str(path), spec)
    return blocks


def read_raw_declared(
    path: str, units: str | UnitSpec | None = None
) -> tuple[dict[str, ImuBlock], UnitSpec]:
    """:func:`read_raw_si` without the check: the blocks (declared units converted) and the
    declared units, for :func:`units_checked_alongside`."""
    from posture.rawcsv import read_raw_csv

    if isinstance(units, str):
        try:
            spec = UnitSpec.parse(units)
        except ValueError as exc:
            raise DataFormatError(f"--units: {exc}") from None
    else:
        spec = units or UnitSpec()
    return to_si(read_raw_csv(path), spec), spec


@contextmanager
def units_checked_alongside(
    blocks: Mapping[str, ImuBlock], path: str, spec: UnitSpec | None = None
) -> Iterator[None]:
    """:func:`check_units` on a second thread while the ``with`` block works on the blocks
    (most of the check is numpy, which lets go of the GIL: on two cores it costs next to no
    time). Leaving the block waits for the check; its error (a user's unit mistake, which
    the block's work may have stumbled over first) is raised instead of any of the block's.
    """
    check = Threaded(lambda: check_units(blocks, path, spec))
    try:
        yield
    except Exception:  # (Ctrl-C and exits pass at once)
        try:
            check.result()
        except Exception as unit_error:  # noqa: BLE001 - the user's mistake, first
            raise unit_error from None
        raise
    check.result()
