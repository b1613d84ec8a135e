"""The angles CSV: a long recording (written in two halves) reads back row for row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from posture import anglescsv
from posture.anglescsv import read_angles_csv, write_angles_csv
from posture.records import AngleBlock


def block(n: int) -> AngleBlock:
    rng = np.random.default_rng(n)
    cols = [rng.normal(0, 20, n) for _ in range(6)]
    cols[0][::97] = np.nan  # sensor gaps are empty cells
    conf = rng.uniform(0, 1, n)
    return AngleBlock(
        100.0 + np.arange(n) / 200.0, *cols, conf, (np.arange(n) % 16).astype(np.uint8)
    )


@pytest.mark.parametrize("n", [10, 100_001, 120_000])
def test_round_trip_in_order(tmp_path: Path, n: int) -> None:
    a = block(n)
    write_angles_csv(tmp_path / "a.csv", a)
    b = read_angles_csv(tmp_path / "a.csv")
    np.testing.assert_array_equal(b.t, a.t)
    np.testing.assert_array_equal(b.flags, a.flags)
    np.testing.assert_array_equal(b.flexion, np.round(a.flexion, 4))
    np.testing.assert_array_equal(b.rotation_confidence, np.round(a.rotation_confidence, 4))


def test_halves_give_the_bytes_of_one_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = block(120_000)
    write_angles_csv(tmp_path / "two.csv", a)
    monkeypatch.setattr(anglescsv, "SPLIT_ROWS", 10**9)
    write_angles_csv(tmp_path / "one.csv", a)
    assert (tmp_path / "two.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
