"""posture.decimal_text gives the bytes pyarrow's CSV writer gives values rounded to 4 decimals."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from posture.decimal_text import LIMIT, decimal_text

OPTS = pacsv.WriteOptions(include_header=False, quoting_style="none")


def csv_bytes(col: pa.Array) -> bytes:
    buf = io.BytesIO()
    pacsv.write_csv(pa.table({"a": col}), buf, OPTS)
    return buf.getvalue()


def pyarrows(x: np.ndarray) -> bytes:
    return csv_bytes(pa.array(x, mask=np.isnan(x)))


def cases() -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    edge = [0.0, -0.0, 1e-4, -1e-4, 5e-4, 0.01, 0.1, 0.5, -0.5, 1.0, -5.0, 10.0, 12.5, 99.99]
    edge += [100.0, -180.0, 179.9999, 999.9999, -999.9999, 0.1234, 0.1230, 0.1200, 1.0001]
    spread = np.round(rng.normal(0, 30, 50_000), 4)
    spread[::7] = np.nan  # sensor gaps
    return [
        np.array(edge + [np.nan]),
        spread,
        np.round(rng.uniform(-LIMIT, LIMIT, 50_000), 4),
        np.round(rng.normal(0, 1e-3, 50_000), 4),  # -0.0 and tiny values
        rng.integers(-9_999_999, 9_999_999, 50_000) / 1e4,  # every digit pattern
        np.round(rng.uniform(0, 1, 1000), 4),  # rotation confidence
        np.full(5, np.nan),
        np.zeros(0),
    ]


@pytest.mark.parametrize("i", range(len(cases())))
def test_text_is_pyarrows(i: int) -> None:
    x = cases()[i]
    text = decimal_text(x)
    assert text is not None
    assert csv_bytes(text) == pyarrows(x)


def test_large_values_are_left_to_pyarrow() -> None:
    assert decimal_text(np.array([1.0, 1000.0])) is None
    assert decimal_text(np.array([-1234.5, np.nan])) is None
    assert decimal_text(np.array([np.inf])) is None
