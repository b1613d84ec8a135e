"""The BLE bridge against simulated peripherals speaking real GATT over bumble (issue 4).

Writes docs/benchmarks/bridge.md. Run:

    uv run python -m benchmarks.bench_bridge            # 60 s clean run, 30 s faulty run
    uv run python -m benchmarks.bench_bridge --quick    # 12 s each

Everything runs in one process and in real time: the simulated sensors, their virtual
controllers, the host-side bumble stack standing in for the OS Bluetooth stack, bleak and the
bridge. "Bridge CPU" is the CPU time of the bridge's own work (decoding, sequence and clock
handling, queueing), measured per notification with ``time.thread_time``; the whole process,
including the simulated sensors and both simulated stacks, is reported as an upper bound.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any
from unittest.mock import patch

import numpy as np

from benchmarks.collect import machine, write_fragment
from firmware_bridge.api import SensorNotFoundError
from posture.records import ImuBlock
from sim.ble_source import SimulatedBleSource
from sim.peripheral import Faults
from sim.wearer import SimConfig


def instrument(src: SimulatedBleSource) -> dict[str, list[tuple[float, int]]]:
    """Record (arrival host time, last seq) per notification, for sample→block latency."""
    seen: dict[str, list[tuple[float, int]]] = {r: [] for r in src.links}
    for role, link in src.links.items():
        feed = link.adapter.feed

        def wrapped(data: bytes, t_host: float, _feed: Any = feed, _r: str = role) -> Any:
            blk = _feed(data, t_host)
            if blk is not None and blk.seq is not None:
                seen[_r].append((time.monotonic(), int(blk.seq[-1])))
            return blk

        # The adapter is instrumented for this run only (it is dropped with the source).
        patch.object(link.adapter, "feed", wrapped).start()
    return seen


async def stream(src: SimulatedBleSource) -> tuple[list[ImuBlock], float, float]:
    await src.start()
    blocks: list[ImuBlock] = []
    c0, w0 = time.process_time(), time.monotonic()
    try:
        while not src.finished:
            await asyncio.sleep(0.05)
            blocks += [b for b in src.read() if isinstance(b, ImuBlock)]
        await asyncio.sleep(0.2)
        blocks += [b for b in src.read() if isinstance(b, ImuBlock)]
    finally:
        cpu, wall = time.process_time() - c0, time.monotonic() - w0
        await src.stop()
    return blocks, cpu, wall


def clean(seconds: float) -> dict[str, Any]:
    src = SimulatedBleSource("walking", seconds, SimConfig(seed=11), extra=1)
    seen = instrument(src)
    blocks, cpu, wall = asyncio.run(stream(src))
    lost = sent = got = 0
    s2b = []
    for role, per in src.peripherals.items():
        b = ImuBlock.concat([x for x in blocks if x.sensor == role])
        got += len(b)
        sent += int(per.sent.sum())
        lost += src.status()[role].dropped
        assert per.block.seq is not None  # simulated peripherals number every sample
        for t_arr, seq in seen[role]:
            s2b.append(t_arr - per.truth_t[np.searchsorted(per.block.seq, seq)])
    lat, bridge_cpu = src.latency_cpu()
    return {
        "sensors": len(src.peripherals),
        "seconds": seconds,
        "sent": sent,
        "received": got,
        "lost": lost,
        "bridge_cpu_pct": 100 * bridge_cpu / wall,
        "process_cpu_pct": 100 * cpu / wall,
        "lat_med_ms": 1e3 * float(np.median(lat)),
        "lat_p95_ms": 1e3 * float(np.percentile(lat, 95)),
        "s2b_med_ms": 1e3 * float(np.median(s2b)),
        "s2b_p95_ms": 1e3 * float(np.percentile(s2b, 95)),
    }


def faulty(seconds: float) -> dict[str, Any]:
    faults = {r: Faults(drop=0.05, drift_ppm=p) for r, p in (("thoracic", 50.0), ("lumbar", -50.0))}
    src = SimulatedBleSource("walking", seconds, SimConfig(seed=12), faults=faults)
    blocks, _, _ = asyncio.run(stream(src))
    out: dict[str, Any] = {}
    for role, per in src.peripherals.items():
        b = ImuBlock.concat([x for x in blocks if x.sensor == role])
        assert b.seq is not None and per.block.seq is not None  # the bridge numbers samples
        i0, i1 = np.searchsorted(per.block.seq, [b.seq[0], b.seq[-1]])
        missing = int((~np.isin(per.block.seq[i0 : i1 + 1], b.seq)).sum())
        err = np.abs(b.t - src.truth_host_time(role, b.seq)) * 1e3
        late = b.t > b.t[0] + 10.0
        st = src.status()[role]
        out[role] = {
            "missing": missing,
            "counted": st.dropped,
            "err_max_ms": float(err[late].max()),
            "err_p99_ms": float(np.percentile(err[late], 99)),
            "drift_true": faults[role].drift_ppm,
            "drift_fit": st.drift_ppm,
        }
    return out


def killed() -> dict[str, Any]:
    f = {"lumbar": Faults(disconnect_at=5.0, down_for=2.0)}
    src = SimulatedBleSource("walking", 12.0, SimConfig(seed=13), faults=f)
    blocks, _, _ = asyncio.run(stream(src))
    per = src.peripherals["lumbar"]
    lost_at, back_at = src.links["lumbar"].gaps[0]
    b = ImuBlock.concat([x for x in blocks if x.sensor == "lumbar"])
    assert b.seq is not None and per.block.seq is not None  # the bridge numbers samples
    i0, i1 = np.searchsorted(per.block.seq, [b.seq[0], b.seq[-1]])
    span = per.block.seq[i0 : i1 + 1]
    miss = ~np.isin(span, b.seq)
    t_miss = per.truth_t[i0 : i1 + 1][miss]
    outside = int(((t_miss < lost_at - 0.1) | (t_miss > back_at)).sum())
    return {
        "resume_s": back_at - per._down_until,
        "gap_s": float(np.diff(b.t).max()),
        "lost_outside_gap": outside,
        "counted": src.status()["lumbar"].dropped,
        "missing": int(miss.sum()),
    }


def absent() -> float:
    src = SimulatedBleSource(
        "standing", 5.0, SimConfig(seed=14), faults={"thoracic": Faults(absent=True)}
    )
    t0 = time.monotonic()
    try:
        asyncio.run(src.start())
    except SensorNotFoundError:
        return time.monotonic() - t0
    raise AssertionError("an absent sensor did not fail")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    c = clean(12.0 if args.quick else 60.0)
    f = faulty(12.0 if args.quick else 30.0)
    k = killed()
    a = absent()
    cmd = "uv run python -m benchmarks.bench_bridge" + (" --quick" if args.quick else "")
    lines = [
        "## Bluetooth bridge (issue 4)",
        "",
        f"`{cmd}` on {machine()}. Simulated spinewatch-profile sensors on bumble's virtual",
        "radio, connected through bleak with the bumble backend (real GATT: MTU 247,",
        "notifications of 4 samples every 20 ms on a 7.5 ms connection-event grid), in real time.",
        "",
        f"**Clean link**, {c['sensors']} sensors × 200 Hz × {c['seconds']:g} s:",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| samples sent / received / lost | {c['sent']} / {c['received']} / {c['lost']} | 0 lost |",
        f"| bridge CPU (decode, timing, queue) | {c['bridge_cpu_pct']:.2f} % of one core | ≤ 15 % |",
        f"| whole process (incl. simulated sensors and both bumble stacks) | "
        f"{c['process_cpu_pct']:.1f} % of one core | (upper bound) |",
        f"| notification → sample block, median / p95 | {c['lat_med_ms']:.3f} / "
        f"{c['lat_p95_ms']:.3f} ms | median ≤ 2 ms |",
        f"| sample taken → block available, median / p95 | {c['s2b_med_ms']:.2f} / "
        f"{c['s2b_p95_ms']:.2f} ms | (incl. batching and connection interval) |",
        "",
        "**5 % notification drops and ±50 ppm sensor clock drift** "
        f"({12 if args.quick else 30} s, errors after 10 s of fitting):",
        "",
        "| sensor | lost (truth) | lost (counted) | timestamp error max / p99 | drift true / fitted |",
        "|---|---|---|---|---|",
    ]
    for role, r in f.items():
        lines.append(
            f"| {role} | {r['missing']} | {r['counted']} | {r['err_max_ms']:.2f} / "
            f"{r['err_p99_ms']:.2f} ms | {r['drift_true']:+.0f} / {r['drift_fit']:+.1f} ppm |"
        )
    lines += [
        "",
        "Target: drop counts exact, time stamps within 2 ms of the truth after 10 s.",
        "",
        "**Link killed mid-stream** (lumbar sensor drops the link at 5 s, away for 2 s):",
        f"streaming resumed {k['resume_s']:.2f} s after the sensor came back (target ≤ 3 s); the",
        f"{k['gap_s']:.2f} s hole stays a hole in the time stamps, which the engine flags",
        f"(FLAG_GAP, angles NaN); {k['missing']} samples lost, {k['counted']} counted, "
        f"{k['lost_outside_gap']} lost outside the outage.",
        "",
        f"**Absent sensor**: `SensorNotFoundError` after {a:.1f} s with the default settings "
        "(target ≤ 10 s), naming the role, the address and what to check.",
    ]
    write_fragment("bridge", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
