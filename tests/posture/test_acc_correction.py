"""The accelerometer correction where raw data enters the engine: block and per-pair paths."""

from __future__ import annotations

import numpy as np
import pytest

from posture.acc_correction import AccCorrection, correct_raw
from posture.angles import SpineModel
from posture.engine import EngineSettings, PostureEngine, analyze
from posture.errors import PostureError
from posture.records import AngleBlock
from tests.poses import two_sensor_move, zxy_deg

CORR = {
    "thoracic": AccCorrection([0.05, -0.04, 0.02], [1.01, 0.99, 1.005]),
    "lumbar": AccCorrection([-0.03, 0.05, -0.05], [0.995, 1.008, 0.99]),
}
SETTINGS = EngineSettings(lumbar_rate_hz=200.0, thoracic_rate_hz=200.0)


def test_correction_inverts_the_error_model_and_refuses_implausible_values() -> None:
    c = CORR["lumbar"]
    a = np.array([[0.0, 9.81, 0.0], [1.0, 2.0, 3.0]])
    np.testing.assert_allclose(c.apply(a * c.scale + c.bias), a)
    assert AccCorrection().is_identity and not c.is_identity
    with pytest.raises(PostureError, match="implausible"):
        AccCorrection([0.0, 3.0, 0.0], [1.0, 1.0, 1.0])
    with pytest.raises(PostureError, match="three finite numbers"):
        AccCorrection([0.0, np.nan, 0.0])


def test_per_pair_and_block_paths_apply_the_same_correction() -> None:
    raw, _ = two_sensor_move(zxy_deg(flex=30, lat=5), still_s=3, hold_s=2)
    lum, tho = raw["lumbar"], raw["thoracic"]
    n = min(len(lum), len(tho))
    lum, tho = lum.take(slice(0, n)), tho.take(slice(0, n))
    model = SpineModel(acc_correction=CORR)
    eng = PostureEngine(model, SETTINGS)
    for i in range(n):
        eng.push_pair(lum.t[i], lum.acc[i], lum.gyr[i], tho.t[i], tho.acc[i], tho.gyr[i])
    got = AngleBlock.concat([eng.drain(), eng.flush()])
    want = analyze({"lumbar": lum, "thoracic": tho}, model, SETTINGS)
    np.testing.assert_array_equal(got.planes(), want.planes())
    # ... and equal to feeding corrected data to an engine without a correction.
    plain = analyze(correct_raw({"lumbar": lum, "thoracic": tho}, CORR), SpineModel(), SETTINGS)
    np.testing.assert_array_equal(want.planes(), plain.planes())
    uncorrected = analyze({"lumbar": lum, "thoracic": tho}, SpineModel(), SETTINGS)
    assert not np.allclose(want.flexion[200:], uncorrected.flexion[200:])
