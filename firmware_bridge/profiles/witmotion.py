"""WitMotion BLE IMUs (WT901BLE / BWT901BLECL family).

From WitMotion's published BLE 5.0 protocol: the sensor notifies on 0xFFE4 (service 0xFFE5,
WitMotion's base UUID ``...-00805f9a34fb``) 20-byte frames ``0x55 0x61`` followed by nine
little-endian int16: acceleration (±16 g full scale), angular rate (±2000 °/s) and Euler
angles roll, pitch, yaw (±180°). Register reads come back as ``0x55 0x71`` frames. Commands
go to 0xFFE9 as ``FF AA reg lo hi``; configuration needs an unlock first and a save after.

The frames carry no timestamp or sequence number: time is the host arrival time, mapped by
:class:`firmware_bridge.timing.ArrivalClock`. A frame may be split across notifications or
follow stray bytes; :class:`WitStream` buffers and re-synchronises on the headers.
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
# The BWT901CL family (and other "classic" WitMotion units behind a serial-over-BLE bridge
# advertising Microchip's transparent-UART service) sends 11-byte 0x55 0x51..0x5A frames.
CLASSIC_SERVICE_UUID = "49535343-fe7d-4ae5-8fa9-9fafd205e455"
CLASSIC_MESSAGE = (
    "BWT901CL (classic 11-byte protocol) is not supported; use the WT901BLE/BWT901BLECL "
    "(BLE 5.0, 20-byte frames) or a sensor with the spinewatch profile"
)


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


def _decode_frames(frames: NDArray[np.uint8]) -> WitFrames:
    """``(n, 20)`` aligned frames (types 0x61/0x71 only) → values in SI units."""
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
    return WitFrames(acc, gyr, euler, quat, mag)


def _type_error(kind: int, index: int) -> PacketError:
    if 0x50 <= kind <= 0x5A:
        return PacketError(
            f"frame {index} is a classic 11-byte WitMotion frame (0x55 0x{kind:02x}): "
            + CLASSIC_MESSAGE
        )
    return PacketError(f"unknown WitMotion frame type 0x{kind:02x} (frame {index})")


def decode(data: bytes | bytearray) -> WitFrames:
    """Decode one notification made of whole 20-byte frames (stateless; the adapter uses
    :class:`WitStream`, which also copes with frames split across notifications)."""
    buf = bytes(data)
    if buf[:1] == b"\x55" and len(buf) > 1 and 0x50 <= buf[1] <= 0x5A:
        raise _type_error(buf[1], 0)  # a classic unit: say so, whatever the length
    if not buf or len(buf) % FRAME:
        raise PacketError(f"WitMotion notification of {len(buf)} bytes is not 20-byte frames")
    frames = np.frombuffer(buf, dtype=np.uint8).reshape(-1, FRAME)
    bad_head = np.flatnonzero(frames[:, 0] != 0x55)
    if bad_head.size:
        raise PacketError(
            f"WitMotion frame {int(bad_head[0])} does not start with 0x55; is this a WitMotion "
            "sensor?"
        )
    bad = np.flatnonzero(~np.isin(frames[:, 1], (0x61, 0x71)))
    if bad.size:
        raise _type_error(int(frames[bad[0], 1]), int(bad[0]))
    return _decode_frames(frames)


class WitStream:
    """Byte-stream reassembler of one link, as WitMotion's own SDKs do it.

    BLE stacks may split a frame across notifications (12 + 8 bytes) or deliver stray bytes
    before a frame; the bytes are buffered and frames re-synchronised on the ``55 61`` /
    ``55 71`` headers. Explicit state: the pending partial frame and counters.

    Attributes:
        garbage_bytes: bytes skipped while looking for a header.
        bad_frames: frames of an unknown type (skipped).
        last_error: the latest problem, naming the offending frame's type, or "".
    """

    def __init__(self) -> None:
        self._pending = b""
        self.garbage_bytes = 0
        self.bad_frames = 0
        self.last_error = ""

    def reset(self) -> None:
        """Forget a partial frame (after a reconnect)."""
        self.garbage_bytes += len(self._pending)
        self._pending = b""

    def push(self, data: bytes | bytearray) -> WitFrames:
        """The frames completed by this notification (possibly none)."""
        new = bytes(data)
        if (
            self._pending
            and new[:2] in (HEAD_DATA, HEAD_REG)
            and ((len(self._pending) + len(new)) % FRAME)
        ):
            # A new frame starts here, so the partial one lost its tail on the air.
            self.garbage_bytes += len(self._pending)
            self._pending = b""
        buf = self._pending + new
        good: list[bytes] = []
        i = 0
        while True:
            j = buf.find(b"\x55", i)
            if j < 0:
                self.garbage_bytes += len(buf) - i
                i = len(buf)
                break
            self.garbage_bytes += j - i
            i = j
            if len(buf) - i < 2:
                break  # a lone 0x55 at the end: maybe the start of a header
            kind = buf[i + 1]
            if kind not in (0x61, 0x71):
                self.bad_frames += 1
                self.last_error = str(_type_error(kind, self.bad_frames - 1))
                self.garbage_bytes += 1
                i += 1
                continue
            if len(buf) - i < FRAME:
                break  # wait for the rest of this frame
            good.append(buf[i : i + FRAME])
            i += FRAME
        self._pending = buf[i:]
        frames = np.frombuffer(b"".join(good), dtype=np.uint8).reshape(-1, FRAME)
        return _decode_frames(frames)


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
