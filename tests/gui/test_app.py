"""``spinewatch gui``: a headless screenshot run end to end, and a clear no-display message."""

from __future__ import annotations

from PySide6.QtGui import QImage

from spinewatch.cli import main


def test_gui_screenshot_run(qapp, tmp_path, capsys) -> None:
    out = tmp_path / "gui.png"
    code = main(["gui", "--simulate", "--seconds", "8", "--speed", "8", "--screenshot", str(out)])
    assert code == 0
    img = QImage(str(out))
    assert img.width() >= 1000 and img.height() >= 700
    assert "screenshot saved" in capsys.readouterr().out


def test_no_display_is_one_clear_line(monkeypatch, capsys) -> None:
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    assert main(["gui", "--simulate"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("spinewatch: error: no display found") and "\n" not in err


def test_live_without_paired_sensors_says_how(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setenv("SPINEWATCH_HOME", str(tmp_path))
    assert main(["gui"]) == 2
    err = capsys.readouterr().err
    assert "paired" in err and "--simulate" in err


def test_replay_of_a_recorded_session(qapp, tmp_path, capsys) -> None:
    session = tmp_path / "lift.sqlite"
    rec = ["record", "--simulate", "--seconds", "12", "--speed", "0", "--quiet"]
    assert main([*rec, "--seed", "3", "-o", str(session)]) == 0
    out = tmp_path / "replay.png"
    code = main(
        [
            "gui",
            "--replay",
            str(session),
            "--seconds",
            "6",
            "--speed",
            "6",
            "--screenshot",
            str(out),
        ]
    )
    assert code == 0 and QImage(str(out)).width() >= 1000


def test_without_a_profile_the_wizard_comes_first(qapp, tmp_path, monkeypatch) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from gui.app import AppOptions, run_app
    from gui.main_window import MainWindow
    from gui.source_adapters import Playback
    from gui.wizard import CalibrationWizard
    from sim.source import SimulatedSource
    from sim.wearer import SimConfig

    cfg = SimConfig(seed=3)
    seen: list[str] = ["pair"]
    go = CalibrationWizard.go

    def record_step(self: CalibrationWizard, step: str) -> None:
        # Every step change, however briefly shown (a 20-ms poll misses some on a busy machine).
        if step != seen[-1]:
            seen.append(step)
        go(self, step)

    monkeypatch.setattr(CalibrationWizard, "go", record_step)

    def user() -> None:  # clicks through like a person who follows the instructions
        for w in QApplication.topLevelWidgets():
            if isinstance(w, CalibrationWizard) and w.isVisible():
                if w.step == "pair" and w.pair_next.isEnabled():
                    w.pair_next.click()
                elif w.step == "result" and w.save_button.isEnabled():
                    w.save_button.click()
            elif isinstance(w, MainWindow) and w.isVisible() and "main" not in seen:
                seen.append("main")

    timer = QTimer()
    timer.timeout.connect(user)
    timer.start(20)
    profile_path = tmp_path / "profile.json"
    code = run_app(
        lambda: Playback(SimulatedSource("standing", 30.0, cfg, speed=0, burst_s=0.1), 10.0),
        None,
        AppOptions(seconds=2.0, screenshot=str(tmp_path / "w.png"), profile_out=str(profile_path)),
        calibration_source=lambda: Playback(
            SimulatedSource("calibration", None, cfg, speed=0, burst_s=0.1), 10.0
        ),
    )
    timer.stop()
    assert code == 0
    assert seen == ["pair", "stand", "catcow", "result", "main"]
    assert profile_path.exists() and (tmp_path / "w.png").exists()
