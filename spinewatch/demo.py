"""The end-to-end demo: simulated wearer → calibration → lifting session → summary.

Everything runs on the simulator's ground truth, so the summary can show how far the
measured angles are from the truth — the demo doubles as a smoke test of the whole chain.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

RATE_RANGE_HZ = (50.0, 400.0)  # what the simulator models; bounds the demo's disk use
MAX_MINUTES = 30.0


def run_demo(
    seed: int = 7, minutes: float = 2.0, rate_hz: float = 200.0, out_dir: str | None = None
) -> int:
    """The offline demo. Without ``out_dir`` its files go to a temporary folder that is
    removed afterwards, also when the demo fails or is interrupted."""
    from posture.errors import SpinewatchError

    if not RATE_RANGE_HZ[0] <= rate_hz <= RATE_RANGE_HZ[1]:
        raise SpinewatchError(f"demo rate {rate_hz:g} Hz is outside 50–400 Hz")
    if not 0 < minutes <= MAX_MINUTES:
        raise SpinewatchError(f"demo length {minutes:g} min is outside 0–{MAX_MINUTES:g} min")
    if out_dir:
        return _run_demo(seed, minutes, rate_hz, Path(out_dir), keep=True)
    with tempfile.TemporaryDirectory(prefix="spinewatch-demo-") as tmp:
        return _run_demo(seed, minutes, rate_hz, Path(tmp), keep=False)


def _run_demo(seed: int, minutes: float, rate_hz: float, folder: Path, keep: bool) -> int:
    from rich.console import Console
    from rich.table import Table

    from calibration import calibrate
    from posture.anglescsv import write_angles_csv
    from posture.engine import EngineSettings, PostureEngine, stream_in_chunks
    from posture.rawcsv import write_raw_csv
    from posture.records import AngleBlock
    from sim.evaluation import angle_rmse
    from sim.wearer import SimConfig, simulate
    from spinewatch.console import print_profile

    con = Console(highlight=False)
    folder.mkdir(parents=True, exist_ok=True)
    cfg = SimConfig(
        rate_hz=rate_hz, seed=seed, clock_offset_s=0.04, clock_drift_ppm=30.0, drop_prob=0.005
    )
    con.print(
        f"[bold]spinewatch demo[/bold]: simulated wearer #{seed}, {rate_hz:.0f} Hz, "
        "sensors strapped on at random angles" + (f"; files in {folder}" if keep else "")
    )

    con.print(
        "\n[bold]1. Calibration[/bold]: 5 s quiet standing, then cat-cow (round fully, "
        "arch fully) three times"
    )
    cal = simulate("calibration", cfg)
    write_raw_csv(folder / "calibration.csv", cal.raw, comments=["spinewatch demo calibration"])
    profile = calibrate(cal.raw)
    profile.save(folder / "profile.json")
    print_profile(profile)
    err_neutral = profile.standing_flexion_deg + cal.truth.neutral_flexion_from_standing_deg
    con.print(
        f"neutral found within {abs(err_neutral):.2f}° of the simulated wearer's true neutral"
    )

    con.print(
        f"\n[bold]2. Lifting session[/bold] ({minutes:g} min): walking, deadlift sets "
        "(some reps with a rounded back), stretching, streamed sample by sample"
    )
    sess = simulate(
        "lifting-session", SimConfig(**{**cfg.__dict__, "seed": seed}), duration_s=minutes * 60.0
    )
    write_raw_csv(folder / "session.csv", sess.raw, comments=["spinewatch demo session"])
    # Live, the bridge maps both sensors to host time; here the simulated sensors keep their
    # own clocks, so the thoracic clock is fitted from the data first.
    from posture.alignment import estimate_clock_map

    clock = estimate_clock_map(sess.raw["lumbar"], sess.raw["thoracic"])
    eng = PostureEngine(
        profile.spine_model,
        EngineSettings(lumbar_rate_hz=rate_hz, thoracic_rate_hz=rate_hz, clock=clock),
    )
    # Deliver in 20 ms notifications, interleaved by time as BLE would.
    lum, tho = sess.raw["lumbar"], sess.raw["thoracic"]
    parts = [block for _, block in stream_in_chunks(eng, lum, tho)]
    angles = AngleBlock.concat(parts)
    write_angles_csv(folder / "angles.csv", angles)
    rm = angle_rmse(angles, sess.truth.angle_block(), skip_s=2.0)
    table = Table(title="Spine angles vs simulated truth", header_style="bold")
    for col in ("plane", "RMSE (deg)", "range seen (deg)"):
        table.add_column(col, justify="right" if col != "plane" else "left")
    for plane in ("flexion", "lateral_flexion", "rotation"):
        v = getattr(angles, plane)
        table.add_row(
            plane.replace("_", " "),
            f"{rm[plane]:.2f}",
            f"{np.nanmin(v):+.0f} … {np.nanmax(v):+.0f}",
        )
    con.print(table)

    from spinewatch.events import events_for

    events = events_for(angles, profile, "auto", None)
    alerts, reps = events["alerts"], events["reps"]
    con.print(
        f"\n[bold]3. Coaching[/bold]: {len(alerts)} alert(s) under load, {len(reps)} hinge rep(s) "
        f"found (truth: {len(sess.truth.reps)} reps, "
        f"{sum(r.rounded for r in sess.truth.reps)} with a rounded back)"
    )
    for al in alerts[:10]:
        con.print(
            f"  ⚠ at {al['start_s'] - angles.t[0]:6.1f} s  {al['plane'].replace('_', ' ')} "
            f"({al['side']}) peak {al['peak_deg']:+.0f}° for {al['duration_s']:.1f} s"
        )
    if keep:
        con.print(f"\nfiles: {folder}/calibration.csv, profile.json, session.csv, angles.csv")
    else:
        con.print("\n(temporary files removed; pass -o FOLDER to keep them)")
    return 0


def run_live_demo(seed: int = 7, seconds: float = 40.0, faults: list[str] | None = None) -> int:
    """The live demo: calibrate, then stream a lifting session through simulated Bluetooth
    sensors (real GATT over bumble's virtual radio) in real time, alerting as it happens."""
    import asyncio
    import dataclasses

    from rich.console import Console

    from firmware_bridge.hub import link_report
    from posture.live import LivePipeline
    from posture.records import AngleBlock
    from sim.ble_source import SimulatedBleSource
    from sim.evaluation import angle_rmse
    from sim.wearer import SimConfig, calibrated_profile
    from spinewatch.console import LiveLines, print_profile
    from spinewatch.events import thresholds_for
    from spinewatch.sources import open_source

    con = Console(highlight=False)
    cfg = SimConfig(seed=seed)
    con.print(
        f"[bold]spinewatch demo[/bold]: simulated wearer #{seed} with two simulated Bluetooth "
        "sensors (thoracic T12, lumbar), strapped on at random angles"
    )
    con.print("\n[bold]1. Calibration[/bold]: quiet standing, then cat-cow three times")
    profile = calibrated_profile(cfg)
    print_profile(profile)
    con.print(
        f"\n[bold]2. Live lifting session[/bold] ({seconds:g} s, real time): the sensors "
        "stream over simulated BLE; alerts print as they happen"
    )
    src = open_source(True, seconds=seconds, seed=seed, faults=faults, ble=True)
    assert isinstance(src, SimulatedBleSource)  # its ground truth is compared below
    parts: list[AngleBlock] = []
    lines = LiveLines(ended=False)
    n_alerts = 0

    async def main() -> None:
        nonlocal n_alerts
        await src.start()
        pipe = LivePipeline.for_host_clock(
            profile, thresholds_for(profile, None), "auto", src.rates_hz
        )
        try:
            while not src.finished:
                await asyncio.sleep(0.02)
                for b in src.read():
                    if lines.origin is None:
                        lines.origin = float(b.t[0])
                    up = pipe.push(b)
                    parts.append(up.angles)
                    for line in lines(up):
                        con.print(f"  {line}", markup=False)
                    for _ in up.raised:
                        n_alerts += 1
                        await src.signal("lumbar", "alert")
        finally:
            await src.stop()
        up = pipe.flush()
        parts.append(up.angles)

    asyncio.run(main())
    angles = AngleBlock.concat(parts)
    con.print(f"\n[bold]3. Links[/bold]\n{link_report(src.status())}")
    per = src.peripherals["lumbar"]
    truth = src.result.truth.angle_block()
    truth = dataclasses.replace(truth, t=truth.t - per.t0 + (per.epoch or 0.0))
    rm = angle_rmse(angles, truth, skip_s=2.0)
    con.print(
        f"\n{n_alerts} alert(s), {lines.rep_count} rep(s). "
        "Error against the simulated truth (RMSE): "
        f"flexion {rm['flexion']:.2f}°, lateral flexion {rm['lateral_flexion']:.2f}°, "
        f"rotation {rm['rotation']:.2f}°"
    )
    return 0


def run_gui_demo(seed: int = 7, seconds: float = 60.0, faults: list[str] | None = None) -> int:
    """The demo in the window: the simulated wearer's calibration, then the live session from
    simulated Bluetooth sensors in the main window (until it is closed)."""
    from gui.app import AppOptions, run_app
    from sim.wearer import calibrated_profile
    from spinewatch.sources import open_source

    profile = calibrated_profile(seed)
    return run_app(
        lambda: open_source(True, seconds=seconds, seed=seed, faults=faults, ble=True),
        profile,
        AppOptions(window_s=30.0),
    )
