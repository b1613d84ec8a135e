"""Our per-sensor fusion on real IMU data (BROAD excerpts, CC BY 4.0, Laidig et al. 2021).

Data: Berlin Robust Orientation Estimation Assessment Dataset (BROAD) by D. Laidig,
M. Caruso, A. Cereatti and T. Seel (TU Berlin), https://github.com/dlaidig/broad, licensed
CC BY 4.0; excerpts as provided in shared/data/broad (see its README for the changes made).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.evaluation import evaluate_broad

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "broad"
FILES = sorted(DATA.glob("broad_*.npz")) if DATA.exists() else []

pytestmark = pytest.mark.skipif(not FILES, reason=f"BROAD excerpts not found in {DATA}")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name[:8])
@pytest.mark.parametrize("mag", [False, True], ids=["6D", "9D"])
def test_inclination_matches_reference(path, mag):
    err, want, filled = evaluate_broad(path, mag)
    assert filled == 0
    assert err["inclination_rmse_deg"] == pytest.approx(want["inclination_rmse_deg"], abs=0.1)
    assert err["total_rmse_deg"] <= want["total_rmse_deg"] + 0.1
