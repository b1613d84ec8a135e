"""Packet decoders from byte fixtures built by hand from the published layouts."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from firmware_bridge.profiles import movella_dot as DOT
from firmware_bridge.profiles import spinewatch as P
from firmware_bridge.profiles import witmotion as WIT
from firmware_bridge.profiles.spinewatch import PacketError

# docs/protocol.md, "Example packet": 2 samples, ±16 g, ±2000 dps, seq 65535, t 1000000 µs.
EXAMPLE = bytes.fromhex(
    "01 00 02 10 d007 ffff 40420f00 8813 57 00"
    " 0000 0000 0008 0000 0000 0000"
    " 0000 0008 0000 0010 0000 00f0"
)


def test_spinewatch_example_packet_decodes_to_documented_values() -> None:
    p = P.decode(EXAMPLE)
    assert (p.n, p.seq, p.t_us, p.dt_us, p.battery_pct, p.status) == (2, 65535, 10**6, 5000, 87, 0)
    np.testing.assert_allclose(p.acc[0], [0, 0, 9.80665])  # 2048 LSB = 1 g at ±16 g
    np.testing.assert_allclose(p.acc[1], [0, 9.80665, 0])
    np.testing.assert_allclose(np.rad2deg(p.gyr[1]), [250.0, 0.0, -250.0])  # 4096 = 250 dps
    assert p.mag is None and not p.tapped


def test_spinewatch_roundtrip_within_quantisation_and_with_mag() -> None:
    rng = np.random.default_rng(0)
    acc, gyr, mag = rng.normal(0, 9, (5, 3)), rng.normal(0, 3, (5, 3)), rng.normal(0, 40, (5, 3))
    p = P.decode(P.encode(7, 123, 5000, acc, gyr, mag, battery_pct=50, status=P.STATUS_TAP))
    np.testing.assert_allclose(p.acc, acc, atol=16 * 9.81 / 32768)
    np.testing.assert_allclose(p.gyr, gyr, atol=np.deg2rad(2000) / 32768)
    np.testing.assert_allclose(p.mag, mag, atol=0.05 + 1e-9)
    assert p.tapped and p.battery_pct == 50 and p.seq == 7


def test_spinewatch_saturates_instead_of_wrapping() -> None:
    p = P.decode(P.encode(0, 0, 5000, np.array([[1e4, 0, 0]]), np.zeros((1, 3))))
    assert p.acc[0, 0] == pytest.approx(16 * 9.80665 * 32767 / 32768)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (EXAMPLE[:10], "shorter than the 16-byte header"),
        (b"\x02" + EXAMPLE[1:], "version 2"),
        (EXAMPLE[:-2], "does not match 2 samples"),
        (EXAMPLE[:3] + b"\x03" + EXAMPLE[4:], "bad scale"),
    ],
)
def test_spinewatch_bad_packets_say_what_is_wrong(data: bytes, why: str) -> None:
    with pytest.raises(PacketError, match=why):
        P.decode(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=260))
def test_spinewatch_decoder_never_crashes_on_garbage(data: bytes) -> None:
    try:
        p = P.decode(data)
    except PacketError:
        return
    assert np.isfinite(p.acc).all() and np.isfinite(p.gyr).all()


def test_mtu_limits_batching() -> None:
    assert P.max_samples(23) == 0 and P.max_samples(247) == 19 and P.max_samples(247, True) == 12


def test_spinewatch_commands() -> None:
    assert P.cmd_start() == b"\x01" and P.cmd_rate(200) == b"\x03\xc8\x00"
    assert P.cmd_signal("alert", 300) == b"\x05\x01\x2c\x01"
    with pytest.raises(Exception, match="unknown signal pattern"):
        P.cmd_signal("siren")


def test_witmotion_frame_fixture() -> None:
    # 0x55 0x61, acc (0, 0, 1 g), gyro (250, 0, 0) dps, angles roll 0, pitch 0, yaw 90°.
    frame = bytes.fromhex("5561 0000 0000 0008 0010 0000 0000 0000 0000 0040")
    fr = WIT.decode(frame + frame)
    assert fr.n == 2
    np.testing.assert_allclose(fr.acc[0], [0, 0, 9.80665])
    np.testing.assert_allclose(np.rad2deg(fr.gyr[0]), [250, 0, 0])
    np.testing.assert_allclose(np.rad2deg(fr.euler[0]), [0, 0, 90])
    assert WIT.decode(WIT.encode_data(fr.acc, fr.gyr, fr.euler)) is not None


def test_witmotion_euler_matches_zyx_convention() -> None:
    e = np.deg2rad([[10.0, -20.0, 130.0]])
    q = WIT.euler_to_quat(e)
    ref = Rotation.from_euler("ZYX", [130, -20, 10], degrees=True).as_quat(scalar_first=True)
    assert abs(abs(float(q[0] @ ref)) - 1) < 1e-12


def test_witmotion_commands_and_errors() -> None:
    assert WIT.cmd_unlock() == bytes.fromhex("ffaa6988b5")
    assert WIT.cmd_rate(100) == bytes.fromhex("ffaa030900")
    assert WIT.cmd_rate(200) == bytes.fromhex("ffaa030b00")
    assert WIT.cmd_save() == bytes.fromhex("ffaa000000")
    with pytest.raises(PacketError, match="20-byte frames"):
        WIT.decode(b"\x55\x61\x00")
    with pytest.raises(PacketError, match="0x55"):
        WIT.decode(bytes(20))


def test_witmotion_quaternion_register_frame() -> None:
    regs = struct.pack("<8h", 16384, 16384, 16384, 16384, 0, 0, 0, 0)
    fr = WIT.decode(b"\x55\x71\x51\x00" + regs)
    np.testing.assert_allclose(fr.quat[0], [0.5, 0.5, 0.5, 0.5])
    assert fr.n == 0


def test_dot_payloads() -> None:
    mode = DOT.MODES["orientation-quaternion"]
    q = np.array([0.5, 0.5, -0.5, 0.5])
    data = DOT.encode(123456, mode, quat=q)
    assert len(data) == DOT.payload_size(mode) == 20
    s = DOT.decode(data, mode)
    assert s.t_us == 123456
    np.testing.assert_allclose(s.values["quat"], q, atol=1e-7)
    rq = DOT.MODES["rate-quantities"]
    s = DOT.decode(DOT.encode(1, rq, acc=np.array([0, 0, 9.8]), gyr=np.array([1.0, 0, 0])), rq)
    np.testing.assert_allclose(s.values["gyr"], [1, 0, 0], atol=1e-6)
    assert DOT.cmd_measure(mode) == bytes([1, 1, 5])
    assert DOT.cmd_measure(rq, start=False) == bytes([1, 0, 21])
    with pytest.raises(PacketError, match="norm"):
        DOT.decode(DOT.encode(0, mode, quat=np.array([2.0, 0, 0, 0])), mode)
    with pytest.raises(PacketError, match="expected 20"):
        DOT.decode(data[:12], mode)


def test_thingy52_raw_and_quaternion_fixtures() -> None:
    from firmware_bridge.profiles import thingy52 as T

    # acc (0, 0, 1 g) = 1024 in Q6.10; gyro 90 °/s = 2880 in Q11.5; compass 25 µT = 400 Q12.4.
    raw = struct.pack("<9h", 0, 0, 1024, 2880, 0, 0, 400, 0, -400)
    acc, gyr, mag = T.decode_raw(raw)
    np.testing.assert_allclose(acc, [0, 0, 9.80665])
    np.testing.assert_allclose(np.rad2deg(gyr), [90, 0, 0])
    np.testing.assert_allclose(mag, [25, 0, -25])
    assert T.encode_raw(acc, gyr, mag) == raw
    q = T.decode_quaternion(struct.pack("<4i", 1 << 29, 1 << 29, 1 << 29, 1 << 29))
    np.testing.assert_allclose(q, [0.5, 0.5, 0.5, 0.5])
    assert T.cmd_config(100) == struct.pack("<HHHHB", 1000, 1000, 1000, 100, 0)
    with pytest.raises(PacketError, match="expected 18"):
        T.decode_raw(raw[:10])
    with pytest.raises(PacketError, match="5..200 Hz"):
        T.cmd_config(400)
