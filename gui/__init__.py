"""The spinewatch desktop GUI (PySide6 + pyqtgraph, asyncio through qasync).

Layering: imports ``posture``, ``calibration`` and the bridge's public API
(``firmware_bridge.api`` / ``sim.source``) only; never Bluetooth stacks and never
``spinewatch``.
"""
