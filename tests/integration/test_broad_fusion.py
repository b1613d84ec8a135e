"""Our per-sensor fusion on real IMU data (BROAD excerpts, CC BY 4.0, Laidig et al. 2021).

Data: Berlin Robust Orientation Estimation Assessment Dataset (BROAD) by D. Laidig,
M. Caruso, A. Cereatti and T. Seel (TU Berlin), https://github.com/dlaidig/broad, licensed
CC BY 4.0; excerpts as provided in shared/data/broad (see its README for the changes made).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from posture.evaluation import broad_errors
from posture.fusion import FusionSettings, OrientationFilter
from posture.records import ImuBlock

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "broad"
FILES = sorted(DATA.glob("broad_*.npz")) if DATA.exists() else []

pytestmark = pytest.mark.skipif(not FILES, reason=f"BROAD excerpts not found in {DATA}")


def _block(ex) -> ImuBlock:
    f = lambda k: np.asarray(ex[k], dtype=np.float64)  # noqa: E731
    rate = float(ex["rate"])
    t = 100.0 + np.arange(len(ex["t"])) / rate  # uniform clock, offset to a non-zero start
    return ImuBlock("lumbar", t, f("acc"), f("gyr"), f("mag"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name[:8])
@pytest.mark.parametrize("mag", [False, True], ids=["6D", "9D"])
def test_inclination_matches_reference(path, mag):
    ref = json.loads((DATA / "reference.json").read_text())["excerpts"][path.name]
    ex = np.load(path)
    block = _block(ex)
    f = OrientationFilter(float(ex["rate"]), FusionSettings(use_mag=mag))
    ob = f.process(block)
    assert len(ob) == len(block) and not ob.filled.any()
    err = broad_errors(
        ob.quat,
        np.asarray(ex["quat_truth"], float),
        np.asarray(ex["movement"]),
        remove_heading_offset=not mag,
    )
    key = "VQF_9D" if mag else "VQF_6D"
    want = ref[key]["absolute" if mag else "heading_offset_removed"]
    assert err["inclination_rmse_deg"] == pytest.approx(want["inclination_rmse_deg"], abs=0.1)
    assert err["total_rmse_deg"] <= want["total_rmse_deg"] + 0.1
