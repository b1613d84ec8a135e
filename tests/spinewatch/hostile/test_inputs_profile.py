"""Broken calibration profiles are refused on load with one line naming the field (issue 17
item 4), never half-used (a zero quaternion once gave "0 alerts")."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from calibration import CalibrationError, CalibrationProfile
from tests.spinewatch.hostile._inputs_common import (
    good_profile_dict,
    lifting_csv,
    run_cli,
    write_profile,
)


def _broken(change: str) -> Any:
    d = copy.deepcopy(good_profile_dict())
    d["thresholds"] = {
        "limits": {"flexion": [-20, 20], "lateral_flexion": [-15, 15], "rotation": [-10, 10]},
        "hysteresis_deg": 2.0,
        "min_duration_s": 0.1,
    }
    exec(change, {"d": d, "nan": float("nan")})  # noqa: S102 - test table below
    return d


CASES = [
    # (name, python statement on the profile dict d, text the one-line error must contain)
    ("zero quaternion", "d['mount_thoracic'] = [0, 0, 0, 0]", "'mount_thoracic'"),
    ("null quaternion entry", "d['mount_lumbar'] = [None, 0, 0, 0]", "'mount_lumbar[0]'"),
    ("quaternion of length 5", "d['neutral'] = [5, 0, 0, 0]", "not a unit quaternion"),
    ("3-element quaternion", "d['mount_thoracic'] = [1, 0, 0]", "has 3 values, expected 4"),
    ("quaternion as text", "d['neutral'] = 'identity'", "expected a list"),
    (
        "thresholds missing a plane",
        "del d['thresholds']['limits']['rotation']",
        "rotation' is missing",
    ),
    ("limits: 'x'", "d['thresholds']['limits'] = 'x'", "'thresholds.limits' is 'x'"),
    (
        "limit of wrong sign",
        "d['thresholds']['limits']['flexion'] = [20, 30]",
        "thresholds.limits.flexion[0]",
    ),
    (
        "ranges missing a plane",
        "del d['ranges']['lateral_flexion']",
        "ranges.lateral_flexion' is missing",
    ),
    (
        "ranges with markup key",
        "d['ranges']['<script>alert(1)</script>'] = [-1, 1]",
        "is not a plane",
    ),
    ("ranges not an object", "d['ranges'] = [1, 2]", "'ranges' is [1, 2], expected an object"),
    ("range of wrong shape", "d['ranges']['flexion'] = [-10]", "has 1 values, expected 2"),
    (
        "schema version as text",
        "d['schema_version'] = '3'",
        "expected the whole number 3 (without quotes)",
    ),
    ("schema version as bool", "d['schema_version'] = True", "expected the whole number 3"),
    ("future schema version", "d['schema_version'] = 4", "schema version 4 is not supported"),
    ("quality above 1", "d['quality'] = 7", "'quality' is 7"),
    ("sensor id not text", "d['sensor_ids'] = {'thoracic': 5}", "sensor_ids.thoracic"),
    ("unknown measured plane", "d['measured_planes'] = ['yaw']", "measured_planes[0]"),
    (
        "deep nesting in info",
        "d['info'] = {'a': [[[[[[[[[[[[[[1]]]]]]]]]]]]]]}",
        "nested more than",
    ),
    ("hysteresis as text", "d['thresholds']['hysteresis_deg'] = 'two'", "hysteresis_deg"),
]


@pytest.mark.parametrize(("name", "change", "expect"), CASES, ids=[c[0] for c in CASES])
def test_broken_profile_is_refused_naming_the_field(
    tmp_path: Path, name: str, change: str, expect: str
) -> None:
    p = write_profile(tmp_path / "p.json", _broken(change))
    with pytest.raises(CalibrationError) as info:
        CalibrationProfile.load(p)
    msg = str(info.value)
    assert expect in msg and "\n" not in msg and str(p) in msg
    assert "np.float64" not in msg


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"schema_version": 1, "quality": NaN}', "NaN in the file"),
        ("\xff\xfe{}", "not valid JSON"),
        ("", "not valid JSON"),
        ('"just text"', "not a calibration profile"),
    ],
    ids=["deep JSON", "NaN token", "odd bytes", "empty", "a string"],
)
def test_unreadable_profile_json_is_one_line(tmp_path: Path, text: str, expect: str) -> None:
    p = write_profile(tmp_path / "p.json", text)
    with pytest.raises(CalibrationError, match=expect):
        CalibrationProfile.load(p)


def test_non_utf8_profile_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "p.json"
    p.write_bytes(b"\x80\x81{}")
    with pytest.raises(CalibrationError, match="not UTF-8"):
        CalibrationProfile.load(p)


def test_good_profile_with_bom_loads_unchanged(tmp_path: Path) -> None:
    d = good_profile_dict()
    p = tmp_path / "p.json"
    p.write_bytes(b"\xef\xbb\xbf" + json.dumps(d).encode())
    assert CalibrationProfile.load(p).to_json_dict() == d


@pytest.mark.parametrize(
    "change",
    [
        "d['mount_thoracic'] = [0, 0, 0, 0]",
        "d['neutral'] = [5, 0, 0, 0]",
        "d['thresholds']['limits'] = 'x'",
    ],
)
def test_analyze_with_broken_profile_exits_with_one_line(tmp_path: Path, change: str) -> None:
    raw = lifting_csv(tmp_path / "raw.csv")
    p = write_profile(tmp_path / "p.json", _broken(change))
    r = run_cli(["analyze", str(raw), "--profile", str(p), "-o", str(tmp_path / "a.csv")])
    assert r.one_line_error() and "bad calibration profile" in r.err
    assert not (tmp_path / "a.csv").exists()


def test_monitor_with_broken_profile_exits_with_one_line(tmp_path: Path) -> None:
    p = write_profile(tmp_path / "p.json", _broken("d['mount_lumbar'] = [0, 0, 0, 0]"))
    r = run_cli(["monitor", "--simulate", "--speed", "0", "--seconds", "1", "--profile", str(p)])
    assert r.one_line_error() and "'mount_lumbar'" in r.err


def test_thresholds_command_with_string_version(tmp_path: Path) -> None:
    p = write_profile(tmp_path / "p.json", _broken("d['schema_version'] = '1'"))
    before = p.read_bytes()
    r = run_cli(["thresholds", str(p), "--set", "flexion=20"])
    assert r.one_line_error() and "(without quotes)" in r.err and "reads 1)" not in r.err
    assert p.read_bytes() == before
