"""The one live chain: the rate rule of LivePipeline.for_host_clock, the source option rules
of every live command, and the one format of live alert/rep lines."""

from __future__ import annotations

import math

import numpy as np
import pytest

from firmware_bridge.api import BridgeError
from posture.alerts import Alert
from posture.live import LivePipeline, LiveUpdate, host_clock_settings
from posture.records import AngleBlock
from posture.reps import RepMetrics
from spinewatch.console import LiveLines
from spinewatch.sources import check_source_options


def test_rate_rule_takes_the_sources_rates_and_estimates_the_unknown() -> None:
    es = host_clock_settings({"lumbar": 100.0, "thoracic": 0.0})
    assert es.lumbar_rate_hz == 100.0
    assert es.thoracic_rate_hz is None  # 0 = unknown: estimated from the first block
    assert host_clock_settings({"lumbar": math.nan}).lumbar_rate_hz is None
    none = host_clock_settings(None)
    assert none.lumbar_rate_hz is None and none.thoracic_rate_hz is None
    assert none.clock is None  # identity: the bridge already put both sensors on host time
    assert host_clock_settings({}, use_mag=True).fusion.use_mag


def test_for_host_clock_builds_the_chain_from_a_profile_and_a_mode() -> None:
    pipe = LivePipeline.for_host_clock(None, None, "never", {"lumbar": 200.0})
    assert pipe.engine.settings.lumbar_rate_hz == 200.0
    assert pipe.load.settings.mode == "never"


@pytest.mark.parametrize(
    ("simulate", "speed", "ble", "faults", "message"),
    [
        (False, 1.0, None, ["drop=0.1"], "--fault only applies to simulated sensors"),
        (False, 1.0, True, None, "--ble only applies to a simulated wearer"),
        (True, 4.0, True, None, "stream in real time; use --speed 1"),
        (True, 0.0, False, ["drop=0.1"], "--fault needs the simulated Bluetooth link"),
    ],
)
def test_source_options_are_refused_with_what_to_change(
    simulate: bool, speed: float, ble: bool | None, faults: list[str] | None, message: str
) -> None:
    with pytest.raises(BridgeError, match=message):
        check_source_options(simulate, speed=speed, ble=ble, faults=faults)


def test_source_options_choose_the_link() -> None:
    assert check_source_options(True) is True  # real time: through simulated Bluetooth
    assert check_source_options(True, speed=0.0) is False
    assert check_source_options(True, ble=False) is False
    assert check_source_options(False) is False


def _update(raised: list[Alert], ended: list[Alert], reps: list[RepMetrics]) -> LiveUpdate:
    return LiveUpdate(AngleBlock.empty(), np.zeros(0, bool), raised, ended, reps)


def test_live_lines_format_alerts_ends_reps_and_taps() -> None:
    al = Alert(10.0, 10.2, 11.5, "flexion", "positive", 24.4)
    rep = RepMetrics(11.0, 12.0, 13.0, 19.6, 10.0, 1.0, 1.0, 80.0, 0.714, 2.0)
    lines = LiveLines(origin=1.0, bell=True)
    got = lines(_update([al], [al], [rep]))
    assert got == [
        "   9.20 s  ALERT  flexion (positive)\a",
        "  10.50 s  back in range after 1.5 s (peak +24°)",
        "  12.00 s  rep 1: peak flexion +20°, hip share 71%",
    ]
    assert lines.tap(3.0, True) == "   2.00 s  set started (tap)"
    quiet = LiveLines(origin=0.0, width=10, ended=False, reps=False)
    assert quiet(_update([al], [al], [rep])) == ["     10.20 s  ALERT  flexion (positive)"]
    assert LiveLines().at(5.0) == "   0.00 s"  # nothing streamed yet
    # A set's first rep, reviewed when the set was recognised: one line, no "back in range".
    review = Alert(10.0, 16.0, 11.5, "flexion", "positive", 27.4)
    assert LiveLines(origin=1.0)(_update([review], [review], [])) == [
        "  15.00 s  ALERT  first rep of the set at    9.00 s: flexion (positive), peak +27° "
        "for 1.5 s"
    ]
