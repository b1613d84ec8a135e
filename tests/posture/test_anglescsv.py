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


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "file not found"),
        (b"\xff\xfe\x00garbage\n\x00\x01,\n1,2,3\n", "not an angles CSV"),
        (b"time_s,a,b\n1,2,3\n", "unexpected header"),
    ],
)
def test_a_file_that_is_not_an_angles_csv_is_refused_with_what_is_wrong(
    tmp_path: Path, content: bytes | None, says: str
) -> None:
    from posture.errors import DataFormatError

    p = tmp_path / "a.csv"
    if content is not None:
        p.write_bytes(content)
    with pytest.raises(DataFormatError, match=says) as err:
        read_angles_csv(p)
    assert err.value.path == str(p)


def test_a_column_with_values_of_1000_or_more_round_trips_with_its_gaps(tmp_path: Path) -> None:
    """Such a column is formatted by pyarrow (not decimal_text); gaps stay empty cells."""
    a = block(50)
    a.lateral_flexion[3], a.lateral_flexion[7] = 1234.56789, np.nan
    write_angles_csv(tmp_path / "a.csv", a)
    assert ",1234.5679," in (tmp_path / "a.csv").read_text()
    b = read_angles_csv(tmp_path / "a.csv")
    np.testing.assert_array_equal(b.lateral_flexion, np.round(a.lateral_flexion, 4))


def test_columns_formatted_ahead_give_the_same_bytes(tmp_path: Path) -> None:
    """ColumnsAhead (the time column cut from the writer's own text, inclinations by
    decimal_text) on another thread: the same file; arrays not in the block are ignored."""
    from posture.anglescsv import ColumnsAhead

    a = block(120_000)
    rng = np.random.default_rng(5)
    a.t[:6] = (-0.0, 5e-324, 1e300, 123456789.125, 1.0, 0.1 + 0.2)  # exact forms the writer picks
    a.t[6:] = np.sort(rng.uniform(1e4, 1e7, a.t.size - 6))
    write_angles_csv(tmp_path / "plain.csv", a)
    ahead = ColumnsAhead()
    ahead({"t": a.t[:], "thoracic_inclination": a.thoracic_inclination})  # (a view will do)
    ahead({"lumbar_inclination": a.lumbar_inclination.copy()})  # not the block's array
    write_angles_csv(tmp_path / "ahead.csv", a, ahead)
    assert (tmp_path / "ahead.csv").read_bytes() == (tmp_path / "plain.csv").read_bytes()
    assert set(ahead.texts(a)) == {"time_s", "thoracic_inclination_deg"}
