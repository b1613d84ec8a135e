"""``spinewatch simulate sensor-table``: the table recording ``calibrate-sensors`` takes."""

from __future__ import annotations

import json

from spinewatch.cli import main


def test_simulated_table_recording_calibrates_the_seeds_sensors(tmp_path, capsys):
    table, sensors = tmp_path / "table.csv", tmp_path / "sensors.json"
    cal, prof = tmp_path / "cal.csv", tmp_path / "p.json"
    assert main(["simulate", "sensor-table", "-o", str(table), "--seed", "3", "--rate", "100"]) == 0
    assert main(["calibrate-sensors", str(table), "-o", str(sensors)]) == 0
    assert main(["simulate", "calibration", "-o", str(cal), "--seed", "3", "--rate", "100"]) == 0
    assert main(["calibrate", str(cal), "--sensors", str(sensors), "-o", str(prof)]) == 0
    corr = json.loads(prof.read_text())["acc_correction"]
    assert set(corr) == {"thoracic", "lumbar"}
    for c in corr.values():
        # The simulated sensors' errors: bias up to ~0.1 m/s², scale within a few per cent.
        assert any(abs(b) > 1e-3 for b in c["bias_m_s2"])
        assert all(abs(b) < 0.2 for b in c["bias_m_s2"])
        assert all(0.95 < s < 1.05 for s in c["scale"])
        assert c["info"]["poses"] == 6


def test_sensor_table_refuses_options_of_worn_recordings(tmp_path, capsys):
    out = tmp_path / "t.csv"
    for extra in (["--truth", str(tmp_path / "x.csv")], ["--duration", "30"]):
        assert main(["simulate", "sensor-table", "-o", str(out), *extra]) == 2
        assert "does not apply to sensor-table" in capsys.readouterr().err
        assert not out.exists() and not (tmp_path / "x.csv").exists()


def test_gui_sensors_option_is_for_the_wizard_only(tmp_path, capsys, sim_profile, monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    prof, sensors = tmp_path / "p.json", tmp_path / "s.json"
    sim_profile(3).save(prof)
    sensors.write_text("{not json")
    assert main(["gui", "--simulate", "--profile", str(prof), "--sensors", str(sensors)]) == 2
    assert "--sensors is for the calibration wizard" in capsys.readouterr().err
    assert main(["gui", "--simulate", "--sensors", str(sensors)]) == 2
    err = capsys.readouterr().err
    assert "s.json" in err and "Traceback" not in err
