"""The cat-cow's own swing must not pull the calibrated neutral (docs/load.md).

The simulator without sensor faults still has the sensors' linear acceleration: swinging
round the hips in the cat-cow, it pulled the fullest flexion ≈ 0.09° up and the neutral
≈ 0.05° into flexion on every seed before the calibration compensated it.
"""

from __future__ import annotations

import pytest

from calibration import calibrate
from sim.wearer import SimConfig, Wearer, simulate


@pytest.mark.parametrize("seed", [100, 103])
def test_neutral_without_sensor_faults_is_exact(seed: int) -> None:
    cfg = SimConfig(seed=seed, rate_hz=100.0, ideal=True)
    prof = calibrate(simulate("calibration", cfg).raw)
    truth = Wearer.from_seed(seed).neutral_from_standing
    assert -prof.standing_flexion_deg == pytest.approx(truth, abs=0.02)
