"""Messages (issue 17 item 11): a UTF-8 BOM is accepted, numbers print as plain numbers,
bad data gives no RuntimeWarning on stderr."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from posture.errors import DataFormatError
from posture.rawcsv import read_raw_csv
from tests.spinewatch.hostile._inputs_common import lifting_csv, run_cli

HEADER = "time_s,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n"


def test_bom_csv_is_read_like_the_plain_one(tmp_path: Path) -> None:
    plain = lifting_csv(tmp_path / "plain.csv")
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    a, b = read_raw_csv(plain), read_raw_csv(bom)
    assert all((a[r].acc == b[r].acc).all() and (a[r].t == b[r].t).all() for r in a)


def test_bom_before_the_header_line(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    rows = "".join(
        f"{i / 100},{s},0,0,9.8,0,0,0\n" for i in range(5) for s in ("lumbar", "thoracic")
    )
    p.write_bytes(b"\xef\xbb\xbf" + (HEADER + rows).encode())
    assert len(read_raw_csv(p)["lumbar"]) == 5


def test_time_stamps_in_messages_are_plain_numbers(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text(HEADER + "1000.25,lumbar,0,0,9.8,0,0,0\n1000.0,lumbar,0,0,9.8,0,0,0\n")
    with pytest.raises(DataFormatError) as info:
        read_raw_csv(p, require=("lumbar",))
    assert "(1000.25 s then 1000.0 s)" in str(info.value) and "np." not in str(info.value)


@pytest.mark.parametrize(
    "rows",
    [
        "0,lumbar,0,0,9.8,0,0,0\n0,thoracic,0,0,9.8,0,0,0\n",
        "".join(
            f"{i / 100},{s},0,0,9.8,0,0,0\n" for i in range(300) for s in ("lumbar", "thoracic")
        ),
        "".join(f"{i / 100},{s},0,0,9.8,0,0,0\n" for i in range(3) for s in ("lumbar", "thoracic")),
        "".join(f"{i},{s},0,0,9.8,0,0,0\n" for i in range(50) for s in ("lumbar", "thoracic")),
    ],
    ids=["one sample each", "300 still samples", "three samples", "1 Hz"],
)
@pytest.mark.parametrize("command", ["analyze", "calibrate"])
def test_degenerate_data_gives_no_warning_and_no_traceback(
    tmp_path: Path, rows: str, command: str
) -> None:
    p = tmp_path / "x.csv"
    p.write_text(HEADER + rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        r = run_cli([command, str(p), "-o", str(tmp_path / "out")])
    assert "Traceback" not in r.err and "Warning" not in r.err
    assert r.code == 0 or r.one_line_error(), r.err
