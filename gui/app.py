"""Starting the GUI: display check, Qt + asyncio (qasync) loop, wizard → main window, screenshot.

``spinewatch gui`` (spinewatch/commands/gui.py) and the demo call :func:`run_app`; tests and
scripts build windows with :meth:`posture.live.LivePipeline.for_host_clock` and drive the loop
with :func:`run_in_qt`.
"""

from __future__ import annotations

import asyncio
import math
import os
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QWidget

from calibration import CalibrationProfile, thresholds_for
from firmware_bridge.api import SampleSource
from gui.controller import RecordingSink
from posture.errors import SpinewatchError
from posture.live import LivePipeline
from posture.thresholds import Thresholds


class GuiError(SpinewatchError):
    """The GUI cannot start (no display, bad options)."""


def check_display() -> None:
    """Raise :class:`GuiError` on Linux when there is no display and no Qt platform set."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise GuiError(
            "no display found (DISPLAY and WAYLAND_DISPLAY are unset): run it on a desktop "
            "session, or set QT_QPA_PLATFORM=offscreen to render without a screen "
            "(useful with --screenshot)"
        )


def _quiet_qt_messages(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    # The offscreen platform reports every window resize it cannot forward; nothing to act on.
    if "propagateSizeHints" in message:
        return
    sys.stderr.write(message + "\n")


def qt_app() -> QApplication:
    qInstallMessageHandler(_quiet_qt_messages)
    existing = QApplication.instance()
    if existing is None:
        app = QApplication([sys.argv[0] if sys.argv else "spinewatch"])
    elif isinstance(existing, QApplication):  # one per process (e.g. made by pytest-qt)
        app = existing
    else:
        raise GuiError("a Qt application without widgets is already running in this process")
    app.setApplicationName("spinewatch")
    return app


def run_in_qt(main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run ``main()`` to completion on a qasync loop inside the Qt event loop."""
    import qasync

    app = qt_app()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        with loop:
            return loop.run_until_complete(main())
    finally:
        asyncio.set_event_loop(None)


def grab(widget: QWidget, path: str | Path) -> Path:
    """Save a PNG of a widget (works offscreen)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not widget.grab().save(str(out), "PNG"):
        raise GuiError(f"could not write the screenshot {out}: check the folder is writable")
    return out


@dataclass(frozen=True)
class AppOptions:
    """What ``spinewatch gui`` asked for."""

    seconds: float | None = None  # stop after this much streamed time, s (None: until closed)
    screenshot: str | None = None
    window_s: float = 30.0
    sound: bool = True
    load_mode: str = "auto"
    thresholds: str | None = None
    profile_out: str = "~/.config/spinewatch/profile.json"
    record_dir: str = "."  # where the record button puts sessions
    sensors: str | None = None  # the sensors' table calibration, for the wizard


async def _wait_closed(widget: QWidget, done: Callable[[], bool]) -> None:
    while widget.isVisible() and not done():
        await asyncio.sleep(0.02)


def run_app(
    source_factory: Callable[[], SampleSource],
    profile: CalibrationProfile | None,
    opts: AppOptions,
    calibration_source: Callable[[], SampleSource] | None = None,
    *,
    thresholds: Thresholds | None = None,
    sink_factory: Callable[[CalibrationProfile, Thresholds], RecordingSink] | None = None,
) -> int:
    """Open the wizard (when there is no profile) and then the main window.

    Args:
        source_factory: makes the live source for the main window.
        profile: the wearer's profile, or None to calibrate first with the wizard.
        opts: options.
        calibration_source: makes the source the wizard uses (default: ``source_factory``).
        thresholds: limits to use as they are (e.g. those stored with a replayed session);
            default: from the profile and ``opts.thresholds``.
        sink_factory: makes the sink the record button sends raw blocks to, for the profile
            and thresholds in use (None: recording unavailable).
    """
    from gui.controller import LiveController
    from gui.main_window import MainWindow
    from gui.source_adapters import SwappedRoles
    from gui.wizard import CalibrationWizard

    check_display()
    # The wizard closes before the main window opens: that must not end the Qt loop. Each
    # window's own close is watched instead (see _wait_closed).
    qt_app().setQuitOnLastWindowClosed(False)

    async def main() -> int:
        prof = profile
        if prof is None:
            src = (calibration_source or source_factory)()
            wiz = CalibrationWizard(src, opts.profile_out, sensors=opts.sensors)
            await src.start()
            wiz.start_polling()
            wiz.show()
            await _wait_closed(wiz, lambda: False)
            await src.stop()
            prof = wiz.profile if wiz.result() else None
            if prof is None:
                return 1
            swapped = wiz.swapped
        else:
            swapped = False
        source = SwappedRoles(source_factory()) if swapped else source_factory()
        await source.start()  # rates are known once started
        th = thresholds if thresholds is not None else thresholds_for(prof, opts.thresholds)
        pipe = LivePipeline.for_host_clock(prof, th, opts.load_mode, source.rates_hz)
        ctl = LiveController(source, pipe)
        ctl.sink = None if sink_factory is None else sink_factory(prof, th)
        win = MainWindow(
            ctl, th, window_s=opts.window_s, sound=opts.sound, record_dir=opts.record_dir
        )
        win.show()
        await ctl.start(source_started=True)
        limit = math.inf if opts.seconds is None else opts.seconds
        await _wait_closed(win, lambda: ctl.elapsed_s >= limit or (ctl.done and limit < math.inf))
        if opts.screenshot:
            win.draw_frame()
            grab(win, opts.screenshot)
            print(f"screenshot saved to {opts.screenshot}")
        await ctl.stop()
        win.close()
        return 0

    return int(run_in_qt(main))
