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


def test_live_sensors_not_yet(capsys) -> None:
    assert main(["gui"]) == 2
    assert "--simulate" in capsys.readouterr().err
