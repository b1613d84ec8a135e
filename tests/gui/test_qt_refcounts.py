"""Guard against the PySide6 6.12 refcount bug (why pyproject pins PySide6-Essentials < 6.12).

PySide6 6.12 returns ``None`` from void calls such as ``QPainter.setPen`` without taking a
reference; on Python 3.11 that drains None's reference count until the interpreter aborts
("none_dealloc") after a few seconds of drawing. Run in a subprocess so a regression fails
this test instead of killing the test session.
"""

from __future__ import annotations

import os
import subprocess
import sys

CODE = """
import sys
from PySide6.QtGui import QColor, QImage, QPainter, QPen
img = QImage(64, 64, QImage.Format.Format_ARGB32)
p = QPainter(img)
pen = QPen(QColor(255, 0, 0))
before = sys.getrefcount(None)
for _ in range(20000):
    p.setPen(pen)
    p.drawLine(0, 0, 10, 10)
after = sys.getrefcount(None)
p.end()
print(after - before)
"""


def test_void_qt_calls_keep_none_alive() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr[-500:]
    assert abs(int(out.stdout.strip())) < 100
