"""Fuzzing the raw CSV reader: any bytes give blocks or a SpinewatchError, never a crash."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from posture.errors import SpinewatchError
from posture.rawcsv import read_raw_csv

HEADER = b"time_s,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n"
cell = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(lambda f: repr(f).encode()),
    st.sampled_from([b"thoracic", b"lumbar", b"", b"x", b"1e999", b"-0", b'"a,b"', b"\xff"]),
    st.binary(max_size=4),
)
row = st.lists(cell, min_size=0, max_size=10).map(lambda cs: b",".join(cs) + b"\n")


def _read(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "f.csv"
        p.write_bytes(data)
        try:
            blocks = read_raw_csv(p)
        except SpinewatchError as exc:
            assert str(exc)
        else:
            assert set(blocks) == {"thoracic", "lumbar"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(row, max_size=8))
def test_random_rows_after_a_valid_header(rows):
    _read(HEADER + b"".join(rows))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes(data):
    _read(data)
