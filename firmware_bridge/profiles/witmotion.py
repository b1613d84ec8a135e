"""WitMotion BLE IMUs (WT901BLE / BWT901BLECL family).

From WitMotion's published BLE 5.0 protocol: the sensor notifies on 0xFFE4 (service 0xFFE5,
WitMotion's base UUID ``...-00805f9a34fb``) 20-byte frames ``0x55 0x61`` followed by nine
little-endian int16: acceleration (±16 g full scale), angular rate (±2000 °/s) and Euler
angles roll, pitch, yaw (±180°). Register reads come back as ``0x55 0x71`` frames. Commands
go to 0xFFE9 as ``FF AA reg lo hi``; configuration needs an unlock first and a save after.

The frames carry no timestamp or sequence number: time is the host arrival time, mapped by
:class:`firmware_bridge.timing.ArrivalClock`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from firmware_bridge.profiles.spinewatch import G, PacketError

SERVICE_UUID = "0000ffe5-0000-1000-8000-00805f9a34fb"
NOTIFY_UUID = "0000ffe4-0000-1000-8000-00805f9a34fb"
WRITE_UUID = "0000ffe9-0000-1000-8000-00805f9a34fb"
FRAME = 20
HEAD_DATA = b"\x55\x61"
HEAD_REG = b"\x55\x71"
RATE_CODES = {0.2: 0x01, 0.5: 0x02, 1: 0x03, 2: 0x04, 5: 0x05, 10: 0x06, 20: 0x07, 50: 0x08,
              100: 0x09, 200: 0x0B}  # fmt: skip
REG_MAG = 0x3A
REG_QUAT = 0x51


@dataclass(frozen=True, eq=False)
class WitFrames:
    """Decoded data frames of one notification: ``(n, 3)`` arrays, SI units."""

    acc: NDArray[np.float64]  # m/s²
    gyr: NDArray[np.float64]  # rad/s
    euler: NDArray[np.float64]  # roll, pitch, yaw, rad (Z-Y-X)
    quat: NDArray[np.float64] | None = None  # (m, 4) w,x,y,z from register reads
    mag_raw: NDArray[np.int16] | None = None

    @property
    def n(self) -> int:
        return int(self.acc.shape[0])


def decode(data: bytes | bytearray) -> WitFrames:
    """Decode one notification (one or more 20-byte frames)."""
    buf = bytes(data)
    if not buf or len(buf) % FRAME:
        raise PacketError(f"WitMotion notification of {len(buf)} bytes is not 20-byte frames")
    frames = np.frombuffer(buf, dtype=np.uint8).reshape(-1, FRAME)
    if (frames[:, 0] != 0x55).any():
        raise PacketError("WitMotion frame does not start with 0x55; is this a WitMotion sensor?")
    kind = frames[:, 1]
    data_rows = frames[kind == 0x61]
    vals = data_rows[:, 2:].copy().view("<i2").astype(np.float64)  # (n, 9)
    acc = vals[:, 0:3] * (16.0 * G / 32768.0)
    gyr = vals[:, 3:6] * np.deg2rad(2000.0 / 32768.0)
    euler = vals[:, 6:9] * np.deg2rad(180.0 / 32768.0)
    quat = mag = None
    for row in frames[kind == 0x71]:
        reg = int(row[2])
        regs = row[4:20].copy().view("<i2")
        if reg == REG_QUAT:
            q = regs[:4].astype(np.float64) / 32768.0
            quat = q[None, :] if quat is None else np.vstack((quat, q))
        elif reg == REG_MAG:
            mag = regs[:3][None, :] if mag is None else np.vstack((mag, regs[:3]))
    if (~np.isin(kind, (0x61, 0x71))).any():
        raise PacketError(f"unknown WitMotion frame type 0x{int(kind[0]):02x}")
    return WitFrames(acc, gyr, euler, quat, mag)


def euler_to_quat(euler: NDArray[np.float64]) -> NDArray[np.float64]:
    """WitMotion roll/pitch/yaw (rad, q = Rz(yaw)·Ry(pitch)·Rx(roll)) → ``(n, 4)`` w,x,y,z."""
    r, p, y = (euler[:, i] * 0.5 for i in range(3))
    cr, sr, cp, sp, cy, sy = np.cos(r), np.sin(r), np.cos(p), np.sin(p), np.cos(y), np.sin(y)
    return np.column_stack(
        (
            cr * cp * cy + sr * sp * sy,
            sr * cp * cy - cr * sp * sy,
            cr * sp * cy + sr * cp * sy,
            cr * cp * sy - sr * sp * cy,
        )
    )


def _cmd(reg: int, value: int) -> bytes:
    return b"\xff\xaa" + struct.pack("<BH", reg, value & 0xFFFF)


def cmd_unlock() -> bytes:
    return _cmd(0x69, 0xB588)


def cmd_save() -> bytes:
    return _cmd(0x00, 0x0000)


def cmd_rate(hz: float) -> bytes:
    if hz not in RATE_CODES:
        raise PacketError(f"WitMotion supports rates {sorted(RATE_CODES)} Hz, not {hz}")
    return _cmd(0x03, RATE_CODES[hz])


def cmd_read(reg: int) -> bytes:
    """Ask for a register block (answered by a ``0x55 0x71`` frame)."""
    return _cmd(0x27, reg)


def encode_data(
    acc: NDArray[np.float64], gyr: NDArray[np.float64], euler: NDArray[np.float64]
) -> bytes:
    """Frames as the sensor sends them (for fixtures and the simulator)."""
    raw = np.column_stack(
        (acc / (16.0 * G / 32768.0), gyr / np.deg2rad(2000.0 / 32768.0),
         euler / np.deg2rad(180.0 / 32768.0))
    )  # fmt: skip
    raw = np.clip(np.rint(raw), -32768, 32767).astype("<i2")
    head = np.tile(np.frombuffer(HEAD_DATA, np.uint8), (raw.shape[0], 1))
    return np.hstack((head, raw.view(np.uint8).reshape(raw.shape[0], 18))).tobytes()
