"""Argument types for the command line: every number a user types is checked on the way in.

Each function is an ``argparse`` ``type=``: it returns the parsed value or raises
:class:`argparse.ArgumentTypeError`, so a bad value gives argparse's one-line usage error
(``spinewatch record: error: argument --seconds: ...``, exit code 2) before any work starts.
NaN and infinity are refused everywhere: ``float("nan")`` parses, but compares false with
every bound and would slip through range checks further in (a ``--speed nan`` once hung
``record``).

Kept free of heavy imports: the CLI imports this module when it builds its parser.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

__all__ = [
    "SPEED_MAX",
    "fault_spec",
    "finite_float",
    "float_in",
    "fraction",
    "non_negative_float",
    "non_negative_seconds",
    "positive_float",
    "positive_int",
    "positive_seconds",
    "seed",
    "speed",
    "threshold_spec",
    "units_spec",
]

SPEED_MAX = 1000.0  # simulation/replay speed factor; beyond this nothing is gained


def finite_float(text: str) -> float:
    """Any finite number (refuses ``nan``, ``inf`` and non-numbers)."""
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"'{text}' is not a finite number")
    return v


def float_in(
    lo: float, hi: float, unit: str = "", *, lo_open: bool = False
) -> Callable[[str], float]:
    """A type for a finite number in ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``)."""
    u = f" {unit}" if unit else ""

    def parse(text: str) -> float:
        v = finite_float(text)
        if (v <= lo if lo_open else v < lo) or v > hi:
            left = "(" if lo_open else "["
            raise argparse.ArgumentTypeError(f"{v:g}{u} is outside {left}{lo:g}, {hi:g}]{u}")
        return v

    parse.__name__ = f"number in {lo:g}..{hi:g}{u}"  # shown by argparse on errors
    return parse


def positive_float(text: str) -> float:
    """A finite number > 0."""
    v = finite_float(text)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"{v:g} is not positive (give a number > 0)")
    return v


def non_negative_float(text: str) -> float:
    """A finite number ≥ 0."""
    v = finite_float(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"{v:g} is negative (give a number ≥ 0)")
    return v


def positive_seconds(text: str) -> float:
    """A duration in seconds, > 0 and at most 30 days (longer is a typo, not a session)."""
    v = positive_float(text)
    if v > 30 * 86400:
        raise argparse.ArgumentTypeError(f"{v:g} s is more than 30 days")
    return v


def non_negative_seconds(text: str) -> float:
    """A duration or offset in seconds, ≥ 0 and at most 30 days."""
    v = non_negative_float(text)
    if v > 30 * 86400:
        raise argparse.ArgumentTypeError(f"{v:g} s is more than 30 days")
    return v


def fraction(text: str) -> float:
    """A probability or fraction in [0, 1]."""
    v = finite_float(text)
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"{v:g} is not a fraction between 0 and 1")
    return v


def positive_int(text: str) -> int:
    """A whole number > 0."""
    try:
        v = int(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"{v} is not positive (give a whole number > 0)")
    return v


def speed(text: str) -> float:
    """Simulation or replay speed factor: 0 (as fast as possible) or up to ``SPEED_MAX``."""
    v = finite_float(text)
    if not 0.0 <= v <= SPEED_MAX:
        raise argparse.ArgumentTypeError(
            f"speed {v:g} is outside 0–{SPEED_MAX:g} (1 = real time, 0 = as fast as possible)"
        )
    return v


def threshold_spec(text: str) -> str:
    """``flexion=DEG,lateral_flexion=DEG,rotation=DEG`` (at least one plane), checked now."""
    from posture.thresholds import ThresholdError, Thresholds

    if not text.strip(" ,"):
        raise argparse.ArgumentTypeError(
            "empty threshold list: give PLANE=DEG, e.g. flexion=20,lateral_flexion=15"
        )
    try:
        Thresholds.parse(text)
    except ThresholdError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def fault_spec(text: str) -> str:
    """One ``--fault NAME=VALUE`` of the simulated sensors, checked now (kept as text)."""
    from sim.peripheral import Faults, FaultSpecError

    try:
        Faults.parse([text])
    except FaultSpecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def seed(text: str) -> int:
    """A random seed: a whole number 0 … 2³²−1 (numpy refuses negative seeds)."""
    try:
        v = int(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if not 0 <= v < 2**32:
        raise argparse.ArgumentTypeError(f"seed {v} is outside 0 … 4294967295")
    return v


def units_spec(text: str) -> str:
    """``acc=g,gyro=deg/s``: units of a raw CSV that is not in m/s² and rad/s."""
    from posture.units import UnitSpec

    try:
        UnitSpec.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def add_units_option(p: argparse.ArgumentParser) -> None:
    """``--units``, shared by the commands that read a raw CSV (analyze, calibrate)."""
    p.add_argument(
        "--units",
        metavar="acc=g,gyro=deg/s",
        type=units_spec,
        help="units of the CSV when not m/s² and rad/s (acc: m/s2, g, mg; gyro: rad/s, "
        "deg/s); without it, files in g or deg/s are recognised and refused",
    )
