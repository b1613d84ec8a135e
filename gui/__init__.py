"""The spinewatch desktop GUI (PySide6 + pyqtgraph, asyncio through qasync).

Layering: imports ``posture``, ``calibration`` and the bridge's public API
(``firmware_bridge.api`` / ``firmware_bridge.simsource``) only; never Bluetooth stacks and never
``spinewatch``.

Importing this package applies :func:`keep_singletons_alive`: PySide6 6.12 returns ``None``
(and ``True``/``False``) from C++ methods such as ``QPainter.setPen`` without taking a
reference, which is harmless on Python ≥ 3.12 (those objects are immortal there) but on 3.11
lowers their reference counts on every call until the interpreter aborts ("none_dealloc",
"bool_dealloc") after a few seconds of drawing. Giving them a huge reference count makes them
as good as immortal, as on 3.12.
"""

from __future__ import annotations

import ctypes
import sys


def keep_singletons_alive() -> None:
    """Make the objects 3.12 made immortal effectively immortal on CPython < 3.12."""
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return
    singletons: list[object] = [None, True, False, Ellipsis, NotImplemented, (), ""]
    singletons += list(range(-5, 257))  # the small-int cache
    for obj in singletons:
        refcnt = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt is the first field
        if refcnt.value < 2**40:
            refcnt.value += 2**42


keep_singletons_alive()
