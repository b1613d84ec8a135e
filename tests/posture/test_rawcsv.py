"""Raw CSV import/export: exact round trip and a clear message for every kind of bad input."""

from __future__ import annotations

import numpy as np
import pytest

from posture.errors import DataFormatError, MissingSensorError, SpinewatchError
from posture.rawcsv import read_raw_csv, write_raw_csv
from posture.records import ImuBlock

HEADER = "time_s,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z"


def _blocks(mag: bool = False) -> dict[str, ImuBlock]:
    rng = np.random.default_rng(4)
    out = {}
    for k, role in enumerate(("thoracic", "lumbar")):
        n = 50 + 7 * k
        t = 1234.5 + np.cumsum(rng.uniform(0.004, 0.006, n)) + 0.0013 * k
        out[role] = ImuBlock(
            role,
            t,
            rng.normal(0, 5, (n, 3)),
            rng.normal(0, 1, (n, 3)),
            rng.normal(0, 40, (n, 3)) if mag else None,
        )
    return out


@pytest.mark.parametrize("mag", [False, True])
def test_round_trip_is_exact(tmp_path, mag):
    blocks = _blocks(mag)
    p = tmp_path / "raw.csv"
    write_raw_csv(p, blocks, comments=["spinewatch test", "rate 200 Hz"])
    text = p.read_text()
    assert text.startswith("# spinewatch test\n# rate 200 Hz\n" + HEADER)
    back = read_raw_csv(p)
    for role, b in blocks.items():
        for name in ("t", "acc", "gyr", "mag"):
            a, c = getattr(b, name), getattr(back[role], name)
            if a is None:
                assert c is None
            else:
                np.testing.assert_array_equal(a, c)


def test_rows_may_interleave_in_any_order(tmp_path):
    p = tmp_path / "raw.csv"
    p.write_text(
        HEADER + "\n"
        "10.01,lumbar,0,0,9.81,0,0,0\n"
        "5.0,thoracic,0,0,9.81,0,0,0\n"
        "10.02,lumbar,0,0,9.81,0,0,0\n"
        "5.1,thoracic,0,0,9.81,0,0,0\n"
    )
    raw = read_raw_csv(p)
    np.testing.assert_array_equal(raw["thoracic"].t, [5.0, 5.1])
    np.testing.assert_array_equal(raw["lumbar"].t, [10.01, 10.02])


GOOD = "1.0,thoracic,0,0,9.81,0,0,0\n1.0,lumbar,0,0,9.81,0,0,0\n"


@pytest.mark.parametrize(
    "content, match",
    [
        ("", "no header and no data"),
        ("# only a comment\n", "no header and no data"),
        (HEADER + "\n", "no data rows"),
        ("time_s,sensor,acc_x,acc_y\n1,lumbar,0,0\n", "missing column"),
        (
            HEADER + "\n" + GOOD + "1.1,lumbar,0,abc,9.81,0,0,0\n",
            r"line 4: column acc_y: 'abc' is not a number",
        ),
        (HEADER + "\n" + GOOD + "1.1,lumbar,0,0,9.81,0,0\n", r"line 4: expected 8"),
        (HEADER + "\n" + GOOD + "1.1,lumbar,0,nan,9.81,0,0,0\n", r"line 4: column acc_y is nan"),
        (HEADER + "\n" + GOOD + "1.1,lumbar,0,0,inf,0,0,0\n", r"line 4: column acc_z is inf"),
        (
            HEADER + "\n" + GOOD + "0.5,lumbar,0,0,9.81,0,0,0\n",
            r"line 4: lumbar time goes backwards",
        ),
        (HEADER + "\n" + GOOD + "1.1,pelvis,0,0,9.81,0,0,0\n", r"line 4: unknown sensor 'pelvis'"),
        ("# c\n" + HEADER + "\n" + GOOD + "1.1,lumbar,0,,9.81,0,0,0\n", r"line 5: column acc_y"),
    ],
)
def test_bad_input_names_line_and_problem(tmp_path, content, match):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    with pytest.raises(DataFormatError, match=match) as exc:
        read_raw_csv(p)
    assert str(p) in str(exc.value)


def test_one_sensor_absent(tmp_path):
    p = tmp_path / "one.csv"
    p.write_text(HEADER + "\n1.0,lumbar,0,0,9.81,0,0,0\n1.1,lumbar,0,0,9.81,0,0,0\n")
    with pytest.raises(MissingSensorError, match="no rows for the thoracic sensor"):
        read_raw_csv(p)
    assert set(read_raw_csv(p, require=("lumbar",))) == {"lumbar"}


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(DataFormatError, match="file not found"):
        read_raw_csv(tmp_path / "nope.csv")
    b = tmp_path / "bin.csv"
    b.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SpinewatchError, match="not a text"):
        read_raw_csv(b)


@pytest.mark.parametrize(
    ("rows", "error", "says"),
    [
        # thoracic absent, lumbar time going back: the thoracic sensor is named first
        ("1,lumbar,0,0,9.8,0,0,0\n0.5,lumbar,0,0,9.8,0,0,0\n", MissingSensorError, "thoracic"),
        # thoracic time going back, lumbar absent: the thoracic rows' fault first
        ("1,thoracic,0,0,9.8,0,0,0\n0.5,thoracic,0,0,9.8,0,0,0\n", DataFormatError, "backwards"),
    ],
)
def test_problems_are_reported_thoracic_first(tmp_path, rows, error, says):
    """The sensors' rows are gathered on two threads; the first problem in the order of the
    roles is the one reported."""
    p = tmp_path / "r.csv"
    p.write_text("time_s,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n" + rows)
    with pytest.raises(error, match=says):
        read_raw_csv(p)
