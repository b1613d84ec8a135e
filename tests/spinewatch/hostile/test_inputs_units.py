"""Raw CSVs in g or deg/s are recognised and refused with the unit and the fix (issue 17
item 6), or converted when declared with --units."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from posture.errors import DataFormatError
from posture.rawcsv import write_raw_csv
from posture.records import ImuBlock
from posture.units import UnitSpec, _gyro_tilt_ratio, check_units, to_si
from sim.wearer import SimConfig, simulate
from tests.spinewatch.hostile._inputs_common import run_cli

BROAD = Path(__file__).resolve().parents[4] / "shared" / "data" / "broad"


def _scaled(raw: dict[str, ImuBlock], fa: float = 1.0, fg: float = 1.0) -> dict[str, ImuBlock]:
    return {r: dataclasses.replace(b, acc=b.acc * fa, gyr=b.gyr * fg) for r, b in raw.items()}


@pytest.fixture(scope="module")
def cal_raw() -> dict[str, ImuBlock]:
    return simulate("calibration", SimConfig(seed=2)).raw


@pytest.fixture(scope="module")
def lift_raw() -> dict[str, ImuBlock]:
    return simulate("lifting-session", SimConfig(seed=2), duration_s=40.0).raw


@pytest.mark.parametrize(
    ("fa", "fg", "expect"),
    [(1 / 9.80665, 1.0, "look like g"), (1.0, 180 / math.pi, "look like deg/s")],
    ids=["acc in g", "gyro in deg/s"],
)
def test_calibrate_says_units_not_no_quiet_standing(tmp_path, cal_raw, fa, fg, expect) -> None:
    f = tmp_path / "cal.csv"
    write_raw_csv(f, _scaled(cal_raw, fa, fg))
    r = run_cli(["calibrate", str(f), "-o", str(tmp_path / "p.json")])
    assert r.one_line_error() and expect in r.err and "quiet standing" not in r.err
    assert "--units" in r.err and not (tmp_path / "p.json").exists()


def test_analyze_refuses_g_and_deg_s_and_converts_when_declared(tmp_path, lift_raw) -> None:
    si, conv = tmp_path / "si.csv", tmp_path / "g_dps.csv"
    write_raw_csv(si, lift_raw)
    write_raw_csv(conv, _scaled(lift_raw, 1 / 9.80665, 180 / math.pi))
    r = run_cli(["analyze", str(conv), "-o", str(tmp_path / "x.csv")])
    assert r.one_line_error() and "look like g" in r.err
    r = run_cli(["analyze", str(conv), "--units", "acc=g", "-o", str(tmp_path / "x.csv")])
    assert r.one_line_error() and "look like deg/s" in r.err
    ok = run_cli(["analyze", str(si), "-o", str(tmp_path / "a_si.csv")])
    ok2 = run_cli(
        ["analyze", str(conv), "--units", "acc=g,gyro=deg/s", "-o", str(tmp_path / "a_conv.csv")]
    )
    assert ok.code == 0 and ok2.code == 0, ok2.err
    a, b = (
        np.genfromtxt(tmp_path / n, delimiter=",", skip_header=1, usecols=(0, 1, 2))
        for n in ("a_si.csv", "a_conv.csv")
    )
    np.testing.assert_allclose(a, b, atol=0.05)  # equal up to float rounding of the conversion


def test_milli_g_is_recognised(lift_raw) -> None:
    with pytest.raises(DataFormatError, match="look like mg"):
        check_units(_scaled(lift_raw, 1000 / 9.80665), "x.csv")


def test_tilt_test_alone_tells_deg_s_from_rad_s(cal_raw) -> None:
    for b in cal_raw.values():
        assert 0.5 < _gyro_tilt_ratio(b) < 2.0
        assert _gyro_tilt_ratio(_scaled({"x": b}, fg=180 / math.pi)["x"]) > 25.0


def test_quiet_standing_in_deg_s_is_recognised_by_its_noise() -> None:
    raw = simulate("standing", SimConfig(seed=1), duration_s=20.0).raw
    check_units(raw, "si.csv")  # rad/s passes
    with pytest.raises(DataFormatError, match=r"deg/s.*noise at rest"):
        check_units(_scaled(raw, fg=180 / math.pi), "dps.csv")


@pytest.mark.skipif(not BROAD.exists(), reason="BROAD excerpts not available")
def test_real_recordings_pass() -> None:
    # BROAD (Laidig et al., TU Berlin, CC BY 4.0): real IMUs in m/s² and rad/s.
    for f in sorted(BROAD.glob("broad_*.npz")):
        d = np.load(f)
        check_units({"x": ImuBlock("x", d["t"], d["acc"], d["gyr"])}, f.name)


def test_declared_units_convert_and_are_not_second_guessed(lift_raw) -> None:
    conv = to_si(_scaled(lift_raw, 1 / 9.80665), UnitSpec.parse("acc=g"))
    np.testing.assert_allclose(conv["lumbar"].acc, lift_raw["lumbar"].acc)
    check_units(_scaled(lift_raw, fg=180 / math.pi), "x.csv", UnitSpec(gyro="rad/s"))


@pytest.mark.parametrize("spec", ["", "acc=furlongs", "gyro", "speed=1"])
def test_bad_units_option_is_a_usage_error(tmp_path, spec) -> None:
    r = run_cli(["analyze", "x.csv", "--units", spec, "-o", str(tmp_path / "o.csv")])
    assert r.code == 2 and "--units" in r.err and "Traceback" not in r.err


def test_the_check_alongside_raises_its_error_before_the_blocks(lift_raw) -> None:
    """analyze checks units on a second thread while it fits the accelerometers: a unit
    mistake is still what the user hears, even when the work alongside failed over it."""
    from posture.units import units_checked_alongside

    in_g = _scaled(lift_raw, fa=1 / 9.80665)
    with pytest.raises(DataFormatError, match="look like g"):
        with units_checked_alongside(in_g, "x.csv"):
            raise ValueError("the fit stumbled over the wrong units")
    with pytest.raises(DataFormatError, match="look like g"):
        with units_checked_alongside(in_g, "x.csv"):
            pass
    with pytest.raises(ValueError, match="a fault of its own"):
        with units_checked_alongside(lift_raw, "x.csv"):
            raise ValueError("a fault of its own")
    with units_checked_alongside(lift_raw, "x.csv"):
        pass
