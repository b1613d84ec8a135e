"""Nordic Thingy:52 motion service (raw data and quaternion characteristics).

From Nordic's Thingy:52 firmware documentation: base UUID
``EF68xxxx-9B35-4933-9B10-52FFA9740042``; motion service 0x0400 with configuration 0x0401
(u16 step-counter interval ms, u16 temperature-compensation interval ms, u16 magnetometer
compensation interval ms, u16 motion processing frequency Hz, u8 wake-on-motion), quaternion
0x0404 (4 × int32, Q2.30, w x y z) and raw data 0x0406 (accelerometer 3 × int16 Q6.10 in g,
gyroscope 3 × int16 Q11.5 in °/s, compass 3 × int16 Q12.4 in µT). Notifications carry no
time stamps or sequence numbers: samples are placed on the rate grid by arrival.
"""

from __future__ import annotations

import struct

import numpy as np
from numpy.typing import NDArray

from firmware_bridge.profiles.spinewatch import G, PacketError


def uuid(short: int) -> str:
    return f"ef68{short:04x}-9b35-4933-9b10-52ffa9740042"


MOTION_SERVICE = uuid(0x0400)
CONFIG_UUID = uuid(0x0401)
QUATERNION_UUID = uuid(0x0404)
RAW_UUID = uuid(0x0406)
LED_UUID = uuid(0x0301)  # user interface service: RGB LED
RAW_SIZE = 18


def decode_raw(
    data: bytes | bytearray,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Raw notification → acc (m/s²), gyr (rad/s), mag (µT), each shape ``(3,)``."""
    if len(data) != RAW_SIZE:
        raise PacketError(f"Thingy:52 raw data of {len(data)} bytes, expected {RAW_SIZE}")
    v = np.frombuffer(bytes(data), dtype="<i2").astype(np.float64)
    return v[0:3] / 1024.0 * G, np.deg2rad(v[3:6] / 32.0), v[6:9] / 16.0


def encode_raw(
    acc: NDArray[np.float64], gyr: NDArray[np.float64], mag: NDArray[np.float64]
) -> bytes:  # noqa: E501
    raw = np.concatenate((acc / G * 1024.0, np.rad2deg(gyr) * 32.0, mag * 16.0))
    return np.clip(np.rint(raw), -32768, 32767).astype("<i2").tobytes()


def decode_quaternion(data: bytes | bytearray) -> NDArray[np.float64]:
    """Quaternion notification → unit ``(4,)`` w, x, y, z."""
    if len(data) != 16:
        raise PacketError(f"Thingy:52 quaternion of {len(data)} bytes, expected 16")
    q = np.frombuffer(bytes(data), dtype="<i4").astype(np.float64) / (1 << 30)
    n = float(np.linalg.norm(q))
    if not 0.9 < n < 1.1:
        raise PacketError(f"Thingy:52 quaternion has norm {n:.3f}; the payload is corrupt")
    return q / n


def cmd_config(rate_hz: int, step_ms: int = 1000, temp_ms: int = 1000, mag_ms: int = 1000) -> bytes:  # noqa: E501
    """Motion configuration: processing frequency ``rate_hz`` (5..200 Hz), no wake-on-motion."""
    if not 5 <= rate_hz <= 200:
        raise PacketError(f"Thingy:52 motion processing runs at 5..200 Hz, not {rate_hz}")
    return struct.pack("<HHHHB", step_ms, temp_ms, mag_ms, rate_hz, 0)


def cmd_led_breathe(red: bool = True, intensity: int = 100, delay_ms: int = 200) -> bytes:
    """RGB LED 'breathe' mode in red (the alert signal)."""
    return struct.pack("<BBBH", 0x02, 0x01 if red else 0x02, intensity, delay_ms)
