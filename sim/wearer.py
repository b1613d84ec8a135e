"""The simulated wearer: :func:`simulate` a named script (or a built one) into both sensors'
raw data with ground truth.

Seeded and deterministic. The movement model is in :mod:`sim.movement`, the varied activities
in :mod:`sim.activities`, the sensor signals and truth in :mod:`sim.sensors`; this module puts
them together (:func:`calibrated_profile` also calibrates the wearer) and re-exports what
callers need (``SimConfig``, ``Script``, ``Wearer``, ``PHASES``, ``SimResult``, ``Truth``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from posture.errors import PostureError
from sim.activities import VARIED_SCRIPTS
from sim.movement import BASIC_SCRIPTS, PHASES, Rep, Script, ScriptFn, SimConfig, Wearer
from sim.sensors import SimResult, Truth, render

if TYPE_CHECKING:
    from calibration import CalibrationProfile

__all__ = [
    "PHASES",
    "RECORDINGS",
    "SCRIPTS",
    "SENSOR_TABLE",
    "Rep",
    "Script",
    "SimConfig",
    "SimResult",
    "Truth",
    "Wearer",
    "calibrated_profile",
    "simulate",
]

# Every named script, for --script choices and simulate("name").
SCRIPTS: dict[str, ScriptFn] = {**BASIC_SCRIPTS, **VARIED_SCRIPTS}

# What `spinewatch simulate` writes: every script plus the sensors' table calibration
# (sensors off the body, so it has no truth angles and no reps).
SENSOR_TABLE = "sensor-table"
RECORDINGS: tuple[str, ...] = (*SCRIPTS, SENSOR_TABLE)


def simulate(
    script: str | Script, config: SimConfig | None = None, duration_s: float | None = None
) -> SimResult:
    """Simulate both sensors for a named script (see ``SCRIPTS``) or a built :class:`Script`.

    ``duration_s`` sets the length of scripts that take one (None: the script's own).
    """
    cfg = config or SimConfig()
    wearer = Wearer.from_seed(cfg.seed)
    if isinstance(script, str):
        if script not in SCRIPTS:
            raise PostureError(f"unknown script '{script}': choose one of {', '.join(SCRIPTS)}")
        sc = SCRIPTS[script](np.random.default_rng([cfg.seed, 3, len(script)]), wearer, duration_s)
    else:
        sc = script
    return render(sc, cfg, wearer)


def calibrated_profile(
    wearer: int | SimConfig, rate_hz: float | None = None, sensor_table: bool = False
) -> CalibrationProfile:
    """The calibration profile of a simulated wearer: its ``calibration`` script (standing +
    cat-cow) through :func:`calibration.calibrate`, as a wearer would calibrate.

    Args:
        wearer: the wearer's seed (default sensor settings), or the whole :class:`SimConfig`.
        rate_hz: sample rate, Hz, with a seed (default 200 Hz); not with a config.
        sensor_table: first calibrate both sensors' accelerometers on a simulated table
            (:func:`sim.table.table_recording` → :func:`calibration.sensor_table.fit_table`)
            and calibrate the wearer with that correction.
    """
    from calibration import calibrate
    from calibration.sensor_table import fit_table
    from sim.table import table_recording

    if isinstance(wearer, SimConfig):
        if rate_hz is not None:
            raise ValueError("give rate_hz in the SimConfig, not beside it")
        cfg = wearer
    else:
        cfg = SimConfig(seed=wearer) if rate_hz is None else SimConfig(seed=wearer, rate_hz=rate_hz)
    corr = fit_table(table_recording(cfg)) if sensor_table else None
    return calibrate(simulate("calibration", cfg).raw, acc_correction=corr)
