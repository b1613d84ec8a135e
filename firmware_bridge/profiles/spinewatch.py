"""The open spinewatch IMU profile (v1): the packet format DIY sensors and the simulator speak.

Specified in ``docs/protocol.md``; the reference firmware is ``firmware/spinewatch_imu``.
Everything is little-endian. One notification carries ``n`` consecutive samples::

    offset size  field
    0      u8    version (1)
    1      u8    flags: bit0 = magnetometer present
    2      u8    n, samples in this packet (1..19 at MTU 247)
    3      u8    accelerometer full scale, ±g
    4      u16   gyroscope full scale, ±deg/s
    6      u16   sequence number of the first sample (+1 per sample, wraps at 65536)
    8      u32   sensor time of the first sample, µs (wraps at 2**32)
    12     u16   sample period, µs of the sensor clock
    14     u8    battery, % (255 = unknown)
    15     u8    status: bit0 tap detected, bit1 charging, bit2 IMU fault
    16     n × (6 or 9) i16: ax ay az gx gy gz [mx my mz]; mag LSB = 0.1 µT

Decoding is a pure function of the bytes; malformed packets raise :class:`PacketError`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from firmware_bridge.api import BridgeError
from posture.constants import G

SERVICE_UUID = "7a5e0001-5b1d-4f3c-9a77-5350494e4531"
DATA_UUID = "7a5e0002-5b1d-4f3c-9a77-5350494e4531"
CONTROL_UUID = "7a5e0003-5b1d-4f3c-9a77-5350494e4531"
INFO_UUID = "7a5e0004-5b1d-4f3c-9a77-5350494e4531"
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"

VERSION = 1
HEADER = struct.Struct("<BBBBHHIHBB")
FLAG_MAG = 0x01
STATUS_TAP, STATUS_CHARGING, STATUS_FAULT = 0x01, 0x02, 0x04
MAG_LSB_UT = 0.1

# Control opcodes (write with response to CONTROL_UUID).
OP_START, OP_STOP, OP_RATE, OP_BATCH, OP_SIGNAL, OP_RANGES = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06
SIGNAL_PATTERNS = {"alert": 1, "blink": 2, "confirm": 3}


class PacketError(BridgeError):
    """A notification that is not a valid packet (truncated, wrong version, bad fields)."""


@dataclass(frozen=True, eq=False)
class Packet:
    """One decoded notification. Arrays: ``acc`` m/s² and ``gyr`` rad/s ``(n, 3)``."""

    seq: int  # first sample, 16-bit wrapped
    t_us: int  # first sample, 32-bit wrapped sensor clock
    dt_us: int
    acc: NDArray[np.float64]
    gyr: NDArray[np.float64]
    mag: NDArray[np.float64] | None
    battery_pct: int | None
    status: int

    @property
    def n(self) -> int:
        return int(self.acc.shape[0])

    @property
    def tapped(self) -> bool:
        return bool(self.status & STATUS_TAP)


def decode(data: bytes | bytearray | memoryview) -> Packet:
    """Decode one notification (raises :class:`PacketError` on anything malformed)."""
    buf = bytes(data)
    if len(buf) < HEADER.size:
        raise PacketError(f"packet of {len(buf)} bytes is shorter than the 16-byte header")
    ver, flags, n, acc_fs, gyr_fs, seq, t_us, dt_us, batt, status = HEADER.unpack_from(buf)
    if ver != VERSION:
        raise PacketError(f"packet version {ver} is not supported (expected {VERSION})")
    width = 9 if flags & FLAG_MAG else 6
    if n == 0 or len(buf) != HEADER.size + 2 * width * n:
        raise PacketError(f"packet length {len(buf)} does not match {n} samples of {width} values")
    if acc_fs not in (2, 4, 8, 16, 32) or not 125 <= gyr_fs <= 4000 or dt_us == 0:
        raise PacketError(f"bad scale fields (acc ±{acc_fs} g, gyr ±{gyr_fs} dps, dt {dt_us} µs)")
    raw = np.frombuffer(buf, dtype="<i2", offset=HEADER.size).reshape(n, width)
    acc = raw[:, 0:3] * (acc_fs * G / 32768.0)
    gyr = raw[:, 3:6] * (np.deg2rad(gyr_fs) / 32768.0)
    mag = raw[:, 6:9] * MAG_LSB_UT if width == 9 else None
    return Packet(seq, t_us, dt_us, acc, gyr, mag, None if batt == 255 else batt, status)


def encode(
    seq: int,
    t_us: int,
    dt_us: int,
    acc: NDArray[np.float64],
    gyr: NDArray[np.float64],
    mag: NDArray[np.float64] | None = None,
    *,
    acc_fs_g: int = 16,
    gyr_fs_dps: int = 2000,
    battery_pct: int | None = None,
    status: int = 0,
) -> bytes:
    """Encode samples as the firmware does (saturating to the full scale)."""
    n = int(acc.shape[0])
    cols = [
        np.asarray(acc) / (acc_fs_g * G / 32768.0),
        np.asarray(gyr) / (np.deg2rad(gyr_fs_dps) / 32768.0),
    ]
    if mag is not None:
        cols.append(np.asarray(mag) / MAG_LSB_UT)
    raw = np.clip(np.rint(np.hstack(cols)), -32768, 32767).astype("<i2")
    head = HEADER.pack(
        VERSION,
        FLAG_MAG if mag is not None else 0,
        n,
        acc_fs_g,
        gyr_fs_dps,
        seq & 0xFFFF,
        t_us & 0xFFFFFFFF,
        dt_us,
        255 if battery_pct is None else battery_pct,
        status,
    )
    return head + raw.tobytes()


def max_samples(mtu: int, mag: bool = False) -> int:
    """Samples that fit one notification at an ATT MTU (payload = MTU − 3)."""
    return max(0, (mtu - 3 - HEADER.size) // (2 * (9 if mag else 6)))


def cmd_start() -> bytes:
    return bytes([OP_START])


def cmd_stop() -> bytes:
    return bytes([OP_STOP])


def cmd_rate(hz: int) -> bytes:
    if not 1 <= hz <= 1600:
        raise BridgeError(f"sample rate {hz} Hz is outside 1..1600 Hz")
    return struct.pack("<BH", OP_RATE, hz)


def cmd_batch(samples: int) -> bytes:
    return struct.pack("<BB", OP_BATCH, samples)


def cmd_signal(pattern: str = "alert", duration_ms: int = 300) -> bytes:
    if pattern not in SIGNAL_PATTERNS:
        raise BridgeError(f"unknown signal pattern {pattern!r}; use one of {list(SIGNAL_PATTERNS)}")
    return struct.pack("<BBH", OP_SIGNAL, SIGNAL_PATTERNS[pattern], duration_ms)


def cmd_ranges(acc_fs_g: int, gyr_fs_dps: int) -> bytes:
    return struct.pack("<BBH", OP_RANGES, acc_fs_g, gyr_fs_dps)


INFO = struct.Struct("<BHBBH")  # version, rate Hz, batch, acc_fs g, gyr_fs dps


def encode_info(rate_hz: int, batch: int, acc_fs_g: int = 16, gyr_fs_dps: int = 2000) -> bytes:
    return INFO.pack(VERSION, rate_hz, batch, acc_fs_g, gyr_fs_dps)


def decode_info(data: bytes | bytearray) -> dict[str, int]:
    if len(data) < INFO.size:
        raise PacketError(f"info characteristic of {len(data)} bytes is too short")
    ver, rate, batch, acc_fs, gyr_fs = INFO.unpack_from(bytes(data))
    return {
        "version": ver,
        "rate_hz": rate,
        "batch": batch,
        "acc_fs_g": acc_fs,
        "gyr_fs_dps": gyr_fs,
    }
