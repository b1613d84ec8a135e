"""Shared, session-scoped artefacts that are expensive to make (simulated wearers, profiles).

Every value handed out is frozen (profiles) or must be treated as read-only (simulated raw
blocks): tests that change one make their own copy.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from calibration import CalibrationProfile
    from sim.wearer import SimResult

# Qt offscreen for every test that opens a widget (not only tests/gui): with xdist, a worker may
# run tests/spinewatch/sessions/test_gui_sink.py without ever loading tests/gui/conftest.py.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@lru_cache(maxsize=32)
def _profile(seed: int, rate_hz: float) -> CalibrationProfile:
    from sim.wearer import calibrated_profile

    return calibrated_profile(seed, rate_hz)


@lru_cache(maxsize=32)
def _simulated(script: str, seed: int, duration_s: float | None, rate_hz: float) -> SimResult:
    from sim.wearer import SimConfig, simulate

    return simulate(script, SimConfig(seed=seed, rate_hz=rate_hz), duration_s=duration_s)


@pytest.fixture(scope="session")
def sim_profile() -> Callable[..., CalibrationProfile]:
    """``sim_profile(seed=3, rate_hz=200.0)``: the calibration profile of a simulated wearer,
    calibrated once per test run (a few seconds each)."""

    def get(seed: int = 3, rate_hz: float = 200.0) -> CalibrationProfile:
        return _profile(seed, float(rate_hz))

    return get


@pytest.fixture(scope="session")
def sim_session() -> Callable[..., SimResult]:
    """``sim_session(script, seed=3, duration_s=None, rate_hz=200.0)``: a default-config
    simulation (``sim.wearer.SimResult``), made once per test run. Read-only."""

    def get(
        script: str, seed: int = 3, duration_s: float | None = None, rate_hz: float = 200.0
    ) -> SimResult:
        return _simulated(script, seed, duration_s, float(rate_hz))

    return get
