"""Physical constants, in one place (SI units).

Every package that needs one imports it from here (posture is the lowest layer, so the
bridge, calibration, gui and spinewatch all may).
"""

from __future__ import annotations

#: Standard gravity, m/s² (per g): unit conversion, raw-count scaling, stillness tests.
G = 9.80665
