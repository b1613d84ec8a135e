"""Movella (Xsens) DOT: measurement service payloads and control commands.

From Movella's "DOT BLE Services Specification": service base UUID
``1517xxxx-4947-11e9-8646-d663bd873d93``; the measurement service (0x2000) has a control
characteristic (0x2001: ``[type=1, action (1 start, 0 stop), payload mode]``) and three
notifying payload characteristics by size: long (0x2002), medium (0x2003), short (0x2004).
Every payload starts with a u32 sensor timestamp in µs; floats are little-endian float32.
Real-time streaming is limited to 60 Hz by the sensor. The output rate is set in the
configuration service's device control characteristic (0x1002), read-modify-write with the
"visit index" saying which field changes.

Supported payload modes: orientation quaternion (on-board fusion, short), free acceleration
(short), complete quaternion (quaternion + free acceleration, medium) and rate quantities
(acc m/s² + gyro °/s, medium; raw data preferred for our own fusion).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from firmware_bridge.profiles.spinewatch import PacketError


def uuid(short: int) -> str:
    return f"1517{short:04x}-4947-11e9-8646-d663bd873d93"


CONFIG_SERVICE = uuid(0x1000)
DEVICE_CONTROL_UUID = uuid(0x1002)  # read/write: visit index, ..., output rate (u16 at 24)
MEASUREMENT_SERVICE = uuid(0x2000)
CONTROL_UUID = uuid(0x2001)
LONG_PAYLOAD_UUID = uuid(0x2002)
MEDIUM_PAYLOAD_UUID = uuid(0x2003)
SHORT_PAYLOAD_UUID = uuid(0x2004)
BATTERY_UUID = uuid(0x3001)  # battery service 0x3000: level %, charging flag
REALTIME_MAX_HZ = 60.0
OUTPUT_RATES = (1, 4, 10, 12, 15, 20, 30, 60)  # Hz the sensor accepts for real-time streaming
_VISIT_OUTPUT_RATE = 0x10  # device-control "visit index" bit: only the output rate changes
_OUTPUT_RATE_OFFSET = 24  # after visit, identify, power (5 bytes), tag length and 16-byte tag


@dataclass(frozen=True)
class PayloadMode:
    ident: int
    name: str
    characteristic: str
    fields: tuple[str, ...]  # after the timestamp: quat (4f), free_acc (3f), acc (3f), gyr (3f)


MODES = {
    m.name: m
    for m in (
        PayloadMode(3, "complete-quaternion", MEDIUM_PAYLOAD_UUID, ("quat", "free_acc")),
        PayloadMode(5, "orientation-quaternion", SHORT_PAYLOAD_UUID, ("quat",)),
        PayloadMode(6, "free-acceleration", SHORT_PAYLOAD_UUID, ("free_acc",)),
        PayloadMode(21, "rate-quantities", MEDIUM_PAYLOAD_UUID, ("acc", "gyr")),
    )
}
_WIDTH = {"quat": 4, "free_acc": 3, "acc": 3, "gyr": 3}


def payload_size(mode: PayloadMode) -> int:
    return 4 + 4 * sum(_WIDTH[f] for f in mode.fields)


@dataclass(frozen=True, eq=False)
class DotSample:
    """One decoded payload: sensor time (µs, u32) and the mode's fields as float arrays."""

    t_us: int
    values: dict[str, NDArray[np.float64]]


def decode(data: bytes | bytearray, mode: PayloadMode) -> DotSample:
    """Decode one notification of ``mode``; gyro is converted to rad/s."""
    buf = bytes(data)
    size = payload_size(mode)
    if len(buf) < size:
        raise PacketError(f"DOT {mode.name} payload of {len(buf)} bytes, expected {size}")
    t_us = struct.unpack_from("<I", buf)[0]
    floats = np.frombuffer(buf, dtype="<f4", count=(size - 4) // 4, offset=4).astype(np.float64)
    out: dict[str, NDArray[np.float64]] = {}
    i = 0
    for f in mode.fields:
        w = _WIDTH[f]
        out[f] = floats[i : i + w]
        i += w
    if "gyr" in out:
        out["gyr"] = np.deg2rad(out["gyr"])
    if "quat" in out:
        norm = float(np.linalg.norm(out["quat"]))
        if not 0.9 < norm < 1.1:
            raise PacketError(f"DOT quaternion has norm {norm:.3f}; the payload is corrupt")
        out["quat"] = out["quat"] / norm
    return DotSample(t_us, out)


def encode(t_us: int, mode: PayloadMode, **values: NDArray[np.float64]) -> bytes:
    """Build a payload as the sensor sends it (fixtures); gyro given in rad/s."""
    parts = []
    for f in mode.fields:
        v = np.asarray(values[f], dtype=np.float64)
        parts.append(np.rad2deg(v) if f == "gyr" else v)
    return struct.pack("<I", t_us & 0xFFFFFFFF) + np.concatenate(parts).astype("<f4").tobytes()


def cmd_measure(mode: PayloadMode, start: bool = True) -> bytes:
    """Control characteristic write that starts (or stops) real-time streaming of ``mode``."""
    return bytes([0x01, 0x01 if start else 0x00, mode.ident])


def output_rate_for(hz: float) -> float:
    """The fastest real-time output rate the sensor accepts that is ≤ ``hz`` (≥ 1 Hz)."""
    ok = [r for r in OUTPUT_RATES if r <= hz]
    return float(ok[-1] if ok else OUTPUT_RATES[0])


def cmd_output_rate(current: bytes | bytearray, hz: float) -> bytes:
    """Device control write (from its current value) that sets the output rate to ``hz``."""
    buf = bytearray(current)
    if len(buf) < _OUTPUT_RATE_OFFSET + 2:
        raise PacketError(f"DOT device control of {len(buf)} bytes is too short for a rate")
    rate = int(output_rate_for(hz))
    buf[0] = _VISIT_OUTPUT_RATE
    struct.pack_into("<H", buf, _OUTPUT_RATE_OFFSET, rate)
    return bytes(buf)
